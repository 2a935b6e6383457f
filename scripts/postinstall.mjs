// Runs after `npm install` in this repository: compiles the CLI (so `npx leanlens` starts without
// compiling TypeScript) and builds the UI so `npx leanlens serve` works at once.
// A failure here must not break the install (native modules are already in place); it says what to run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (existsSync('scripts/build-cli.mjs')) {
  const cli = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
  if (cli.status !== 0) console.warn('leanlens: compiling the CLI failed; it runs from TypeScript instead (slower start). "npm run build:cli" shows why.');
}
if (!existsSync('renderer/vite.config.ts') || !existsSync('node_modules/vite')) process.exit(0);
const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
  stdio: 'inherit',
});
if (r.status === 0) console.log('leanlens: UI built into dist/renderer');
else console.warn('leanlens: building the UI failed; run "npm run build:renderer" to see why (the CLI works without it)');
