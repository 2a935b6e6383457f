// The desktop app end to end with Playwright's `_electron`: launch the built app on a temporary
// library, check the window's security settings from inside, add a folder, wait for indexing,
// search "red" in the UI and see the red photo first, served through photo://.
//
// Electron's binary cannot be downloaded on the machines this project is developed on, so this
// skips there. The binary is located the way node_modules/electron/index.js does it (path.txt →
// dist/<path>) without calling require('electron'), which would try to download it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElectronApplication, Page } from 'playwright-core';
import { writeColourLibrary } from '../fixtures/photos.ts';

const root = join(import.meta.dirname, '..', '..');
const SKIP_MESSAGE = 'Electron binary not installed (cannot be downloaded here): skipping';

function electronBinary(): string | null {
  const dir = join(root, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, readFileSync(pathFile, 'utf8'))
    : join(dir, 'dist', readFileSync(pathFile, 'utf8'));
  return existsSync(exe) ? exe : null;
}

const binary = electronBinary();
if (!binary) console.warn(`test/e2e/electron.test.ts: ${SKIP_MESSAGE}`);

describe.skipIf(!binary)(`desktop app (Electron)${binary ? '' : ` — ${SKIP_MESSAGE}`}`, () => {
  let work: string;
  let app: ElectronApplication;
  let page: Page;

  beforeAll(async () => {
    for (const [cmd, args] of [
      ['npx', ['vite', 'build', '--config', 'renderer/vite.config.ts']],
      ['node', ['scripts/build-main.mjs']],
    ] as const) {
      const r = spawnSync(cmd, [...args], { cwd: root, stdio: 'inherit' });
      expect(r.status, `${cmd} ${args.join(' ')}`).toBe(0);
    }
    work = mkdtempSync(join(tmpdir(), 'leanlens-electron-'));
    await writeColourLibrary(join(work, 'photos'));
    const { _electron } = await import('playwright-core');
    app = await _electron.launch({
      executablePath: binary!,
      args: [root],
      env: { ...process.env, LEANLENS_DATA: join(work, 'data') } as Record<string, string>,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 300_000);

  afterAll(async () => {
    await app?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('loads the UI from app:// with no Node in the page and only the contract bridge', async () => {
    expect(page.url()).toBe('app://leanlens/index.html');
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    const globals = await page.evaluate(() => ({
      require: typeof (window as any).require,
      process: typeof (window as any).process,
      bridge: Object.keys((window as any).leanlens ?? {}).sort(),
    }));
    expect(globals.require).toBe('undefined');
    expect(globals.process).toBe('undefined');
    expect(globals.bridge).toContain('search.text');
    expect(globals.bridge).toContain('on');
    expect(globals.bridge).not.toContain('ipcRenderer');
  });

  it('refuses inline script (CSP) and bad photo URLs', async () => {
    const inlineRan = await page.evaluate(async () => {
      (window as any).__inline = false;
      const s = document.createElement('script');
      s.textContent = 'window.__inline = true';
      document.body.appendChild(s);
      await new Promise((r) => setTimeout(r, 50));
      return (window as any).__inline;
    });
    expect(inlineRan).toBe(false);
    const statuses = await page.evaluate(async () =>
      Promise.all(['photo://original/abc', 'photo://file/1', 'photo://original/999999'].map(async (u) => (await fetch(u)).status)),
    );
    expect(statuses).toEqual([400, 404, 404]);
  });

  it('indexes an added folder and finds the red photo first from the search box', async () => {
    await page.evaluate((path) => (window as any).leanlens['folders.add']({ path }), join(work, 'photos'));
    await expect
      .poll(async () => page.evaluate(async () => {
        const s = await (window as any).leanlens['index.status']({});
        return s.files > 0 && s.pending === 0;
      }), { timeout: 180_000, interval: 500 })
      .toBe(true);
    const best = await page.evaluate(async () => (await (window as any).leanlens['search.text']({ text: 'red', limit: 1 })).hits[0]);
    expect(best.photo.name).toMatch(/^red\./);

    const box = page.getByRole('searchbox').or(page.getByPlaceholder(/search/i)).first();
    await box.fill('red');
    await box.press('Enter');
    const first = page.locator('img[src^="photo://thumbnail/"]').first();
    await expect.poll(async () => first.getAttribute('src'), { timeout: 30_000 }).toMatch(new RegExp(`^photo://thumbnail/${best.photo.id}(\\?|$)`));
    await expect.poll(async () => first.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 30_000 }).toBe(true);
  });
});
