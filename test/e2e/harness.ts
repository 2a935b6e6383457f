/** What the browser e2e tests share: where Chromium and the built UI are, building it when stale, and one setup (`openUi`). */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import type { App } from '../../main/app/index.ts';
import { startServer, type RunningServer } from '../../main/server/index.ts';

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

/**
 * A models folder like the bundled one without the entries whose ids match `drop` (the other files
 * are symlinked): for tests of a build that ships only the small test models.
 */
export function bundledModelsWithout(drop: RegExp, into: string): string {
  const models = join(root, 'models');
  mkdirSync(into, { recursive: true });
  for (const name of readdirSync(models)) {
    if (name !== 'manifest.json') symlinkSync(join(models, name), join(into, name));
  }
  const manifest = JSON.parse(readFileSync(join(models, 'manifest.json'), 'utf8')) as { models: { id: string }[] };
  manifest.models = manifest.models.filter((m) => !drop.test(m.id));
  writeFileSync(join(into, 'manifest.json'), JSON.stringify(manifest));
  return into;
}

/** Debian's Chromium, headless, without background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/**
 * Collects every script error and console error into `problems` (the CSP forbids inline script
 * and eval, so a violation lands here too); a test ends by expecting it empty.
 */
export function collectProblems(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
}

/** One browser test setup: a temp folder, the app, the headless server, Chromium and a page. */
export interface UiSession {
  dir: string;
  app: App;
  server: RunningServer;
  browser: Browser;
  page: Page;
  /** Console and page errors seen so far; each suite ends by expecting it empty. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Builds the UI if stale, makes a temp folder, lets `makeApp` fill it and create the app, then
 * serves it and opens a 1280×800 page (light scheme unless the context says otherwise).
 */
export async function openUi(prefix: string, makeApp: (dir: string) => Promise<App>, context: BrowserContextOptions = {}): Promise<UiSession> {
  await ensureRendererBuilt();
  await mkdir(shots, { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const app = await makeApp(dir);
  const server = await startServer(app, { port: 0, staticDir });
  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', ...context })).newPage();
  const problems: string[] = [];
  collectProblems(page, problems);
  return {
    dir,
    app,
    server,
    browser,
    page,
    problems,
    async close() {
      await browser.close();
      await server.close();
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
