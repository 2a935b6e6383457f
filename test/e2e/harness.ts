/** What the browser e2e tests share: where Chromium and the built UI are, and building it when stale. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const staticDir = join(root, 'dist', 'renderer');
export const shots = join(root, 'test-results', 'screenshots');
export const haveChromium = existsSync(CHROMIUM);

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Builds the renderer when dist/renderer is missing or older than its sources. */
export async function ensureRendererBuilt(): Promise<void> {
  const built = join(staticDir, 'index.html');
  const sources = Math.max(newestMtime(join(root, 'renderer')), newestMtime(join(root, 'main', 'core', 'contract.ts')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const { build } = await import('vite');
  await build({ configFile: join(root, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
}
