#!/usr/bin/env node
// Builds what Electron runs (it cannot run TypeScript):
//   1. what the desktop app runs (everything under main/: tsconfig.build.json includes it all)
//      → dist/**/*.js with `tsc -p tsconfig.build.json` (ESM; `.ts` imports rewritten to `.js`);
//   2. the non-TypeScript files the code reads at run time beside itself (SQL migrations, .mjs/.cjs
//      worker shims, JSON) copied into the same place under dist/;
//   3. preload/index.ts → dist/preload/index.cjs, alone and as CommonJS, because a sandboxed
//      preload is a plain script that can only `require('electron')`.
// The renderer is built separately by Vite into dist/renderer.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Extensions copied verbatim from main/ to dist/ (tsc only emits .ts). */
export const RUNTIME_ASSETS = ['.sql', '.mjs', '.cjs', '.json'];

/** Compiles the preload source to one CommonJS script; used by the build and by its unit test. */
export function compilePreload(source) {
  const ts = require('typescript');
  const out = ts.transpileModule(source, {
    fileName: 'index.ts',
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
      sourceMap: false,
    },
  });
  const errors = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (errors.length) throw new Error(`preload does not compile:\n${errors.join('\n')}`);
  return out.outputText;
}

function copyAssets(fromDir, toDir) {
  const copied = [];
  for (const entry of readdirSync(fromDir, { withFileTypes: true })) {
    const from = join(fromDir, entry.name);
    if (entry.isDirectory()) copied.push(...copyAssets(from, join(toDir, entry.name)));
    else if (RUNTIME_ASSETS.includes(extname(entry.name)) && !entry.name.startsWith('tsconfig')) {
      mkdirSync(toDir, { recursive: true });
      copyFileSync(from, join(toDir, entry.name));
      copied.push(relative(root, join(toDir, entry.name)));
    }
  }
  return copied;
}

function build() {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error('build:main: TypeScript reported errors (see above); not launching a half-built app.');
    process.exit(r.status ?? 1);
  }
  const copied = copyAssets(join(root, 'main'), join(root, 'dist'));
  const preloadOut = join(root, 'dist', 'preload', 'index.cjs');
  mkdirSync(dirname(preloadOut), { recursive: true });
  writeFileSync(preloadOut, compilePreload(readFileSync(join(root, 'preload', 'index.ts'), 'utf8')));
  console.log(`build:main: dist/ ready (${copied.length} runtime files copied, preload → ${relative(root, preloadOut)})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) build();
