#!/usr/bin/env node
// The `leanlens` command. Runs the compiled CLI (dist/cli-bundle, built by `npm install` or
// `npm run build:cli`) when it is there and no older than the sources in main/; otherwise it runs
// the TypeScript through tsx, so a fresh clone and a tree being edited always run current code.
// LEANLENS_FROM_SOURCE=1 forces the TypeScript path.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sourcesStamp, stampMatches } from './sources-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundleDir = join(root, 'dist', 'cli-bundle');

function compiledIsCurrent() {
  if (process.env.LEANLENS_FROM_SOURCE) return false;
  let built;
  try {
    built = JSON.parse(readFileSync(join(bundleDir, 'sources.json'), 'utf8'));
  } catch {
    return false;
  }
  if (stampMatches(built, sourcesStamp(join(root, 'main')))) return true;
  if (process.stderr.isTTY) process.stderr.write('leanlens: main/ changed since the CLI was compiled; running from source (slower). `npm run build:cli` compiles it again.\n');
  return false;
}

let runCli;
if (compiledIsCurrent() && existsSync(join(bundleDir, 'leanlens.js'))) {
  ({ runCli } = await import(pathToFileURL(join(bundleDir, 'leanlens.js')).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import('../main/cli/main.ts'));
}
process.exitCode = await runCli(process.argv.slice(2));
