/**
 * Accessibility and layout audit of every view, in Debian's Chromium against the headless server:
 * axe-core (WCAG 2.x A/AA rules) on each view in light and dark must find no serious or critical
 * violation; every view is photographed at 800×600 and 1920×1080 in both schemes; the keyboard
 * reaches every control with a visible focus ring; the result grid is one Tab stop driven by the
 * arrow keys; and the console stays free of errors (a missing favicon or an expected API error
 * would land there). The full axe report goes to test-results/axe/, the screenshots to
 * test-results/screenshots/audit-*.png.
 *
 * VIEWS is the one list of views: adding a view to the audit is one entry.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../main/app/index.ts';
import type { App } from '../../main/app/index.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';
import { CHROMIUM, bundledModelsWithout, haveChromium, openUi, root, shots, type UiSession } from './harness.ts';

if (!haveChromium) console.warn(`skipping the accessibility audit: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const SCHEMES = ['light', 'dark'] as const;
const SIZES = [
  { width: 800, height: 600 },
  { width: 1920, height: 1080 },
] as const;
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Waits until the thumbnails on screen have loaded, so screenshots show photos, not grey squares. */
async function imagesLoaded(page: Page) {
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), undefined, { timeout: 15_000 });
}

async function nav(page: Page, name: string) {
  await page.getByRole('link', { name, exact: true }).click();
}

async function searchFor(page: Page, text: string) {
  await nav(page, 'Search');
  const box = page.getByLabel('Search photos');
  await box.fill(text);
  await box.press('Enter');
  await page.locator('.tile').first().waitFor({ timeout: 20_000 });
  // A search opens at its own (adaptive) cut-off; these checks want a full grid: every photo.
  await page.getByRole('slider', { name: 'Minimum relevance' }).fill('-1');
  await page.locator('.tile').nth(3).waitFor({ timeout: 20_000 });
}

/** Every view a person can reach, and how to open it with something in it. */
const VIEWS: { name: string; open: (page: Page) => Promise<void> }[] = [
  {
    name: 'photos',
    open: async (page) => {
      await nav(page, 'Photos');
      await page.locator('.tl-tile img').first().waitFor({ timeout: 20_000 });
    },
  },
  { name: 'search', open: (page) => searchFor(page, 'red') },
  {
    name: 'preview',
    open: async (page) => {
      await searchFor(page, 'red');
      await page.locator('.tile').first().getByRole('button', { name: /Open preview/ }).click();
      await page.getByRole('dialog').waitFor();
    },
  },
  {
    name: 'album',
    open: async (page) => {
      await page.locator('[data-testid="album-list"] a').first().click();
      await page.locator('.tile').first().waitFor({ timeout: 20_000 });
    },
  },
  {
    name: 'library',
    open: async (page) => {
      await nav(page, 'Library');
      await page.locator('[data-testid="folder"]').first().waitFor();
    },
  },
  {
    name: 'duplicates',
    open: async (page) => {
      await nav(page, 'Duplicates');
      await page.getByRole('heading', { name: 'Duplicates', level: 1 }).waitFor();
    },
  },
  {
    name: 'models',
    open: async (page) => {
      await nav(page, 'Models');
      await page.locator('[data-testid="model"]').first().waitFor();
    },
  },
  {
    name: 'lab',
    open: async (page) => {
      await nav(page, 'Lab');
      await page.getByTestId('results-table').waitFor({ timeout: 20_000 });
      await page.getByTestId('results-card').scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'settings',
    open: async (page) => {
      await nav(page, 'Settings');
      await page.getByTestId('data-dir').waitFor();
    },
  },
];

describe.skipIf(!haveChromium)('accessibility audit of every view (axe-core, light and dark, 800×600 and 1920×1080)', () => {
  let app: App;
  let page: Page;
  let ui: UiSession;
  /** Every console error, including "Failed to load resource" (a 404 favicon, an API error answer). */
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ui = await openUi('leanlens-e2e-audit-', async (d) => {
      const photos = join(d, 'Holiday photos');
      await writeColourLibrary(photos);
      const a = await createApp({ dataDir: join(d, 'data'), modelsDir: bundledModelsWithout(/^shapesworld-|^clip-vit-b32|^mobileclip-/, join(d, 'models')) });
      await a['folders.add']({ path: photos });
      await a.sync();
      await a['albums.save']({ name: 'Warm colours', query: { text: 'red orange' } });
      // A finished benchmark, so the Lab shows its table and charts.
      const { runId } = await a['lab.run']({ teacher: 'tiny-clip', models: ['color-oracle'], iterations: 1 });
      for (let i = 0; i < 600; i++) {
        const [run] = await a['lab.results']({ runId });
        if (run && run.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      return a;
    });
    ({ app, page } = ui);
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} ${m.location().url ?? ''}`.trim());
    });
    await page.goto(ui.server.url);
  }, 180_000);

  afterAll(() => ui?.close());

  it('finds no serious or critical axe violation on any view, in light or dark; keeps the report', async () => {
    const report: { view: string; scheme: string; size: string; violations: unknown[] }[] = [];
    const serious: string[] = [];
    for (const view of VIEWS) {
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme: 'light' });
        await page.keyboard.press('Escape');
        await view.open(page);
        await page.mouse.move(1, size.height - 1);
        for (const scheme of SCHEMES) {
          await page.emulateMedia({ colorScheme: scheme });
          await imagesLoaded(page);
          await page.screenshot({ path: join(shots, `audit-${view.name}-${size.width}x${size.height}-${scheme}.png`) });
          // axe in both schemes at the narrow size (the tighter layout), in light at the wide one: the
          // colours are the same at both sizes, so this covers every view and theme in half the time.
          if (size.width > 1000 && scheme === 'dark') continue;
          const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
          report.push({ view: view.name, scheme, size: `${size.width}x${size.height}`, violations: result.violations });
          for (const v of result.violations) {
            if (v.impact === 'serious' || v.impact === 'critical') {
              serious.push(`${view.name} ${scheme} ${size.width}: ${v.id} (${v.impact}) — ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
            }
          }
        }
      }
    }
    await mkdir(join(root, 'test-results', 'axe'), { recursive: true });
    await writeFile(join(root, 'test-results', 'axe', 'report.json'), JSON.stringify(report, null, 1));
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(serious).toEqual([]);
  }, 480_000);

  it('at 800×600 folds the sidebar to icons (still named for screen readers) and shows at least three rows of tiles', async () => {
    await page.setViewportSize({ width: 800, height: 600 });
    await searchFor(page, 'red');
    const sidebar = await page.locator('.sidebar').boundingBox();
    expect(sidebar!.width).toBeLessThan(80);
    expect(await page.getByRole('link', { name: 'Library', exact: true }).isVisible()).toBe(true);
    // The filters fold behind one button; the slider stays.
    expect(await page.getByLabel('Folder filter').isVisible()).toBe(false);
    await page.getByRole('button', { name: /^Filters/ }).click();
    expect(await page.getByLabel('Folder filter').isVisible()).toBe(true);
    await page.getByRole('button', { name: /^Filters/ }).click();
    const grid = (await page.getByTestId('results').boundingBox())!;
    const tile = (await page.locator('.tile').first().boundingBox())!;
    expect(Math.floor(grid.height / tile.height)).toBeGreaterThanOrEqual(3);
    await page.setViewportSize({ width: 1920, height: 1080 });
    // Wide: tiles fill the width (no empty band on the right wider than one tile).
    const wideGrid = (await page.getByTestId('results').boundingBox())!;
    const lastInRow = await page.locator('.grid-row').first().locator('.tile').last().boundingBox();
    expect(wideGrid.x + wideGrid.width - (lastInRow!.x + lastInRow!.width)).toBeLessThan(40);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('the result grid is one Tab stop: arrows move a visible focus, Enter opens, Esc returns to the tile', async () => {
    await searchFor(page, 'red');
    const focusedTile = () => page.evaluate(() => (document.activeElement?.closest('.tile') as HTMLElement | null)?.dataset.index ?? null);
    // The page's first Tab stop (first focusable in document order) skips to the results.
    const first = await page.evaluate(() => {
      const el = document.querySelector<HTMLElement>('a[href], button:not([disabled]), input:not([tabindex="-1"]), select, [tabindex="0"]');
      el?.focus();
      return el?.textContent;
    });
    expect(first).toBe('Skip to results');
    await page.keyboard.press('Enter');
    expect(await focusedTile()).toBe('0');
    const box = page.getByLabel('Search photos');
    await box.focus();
    // Tab from the box reaches the first tile after the toolbar and filters, never a second tile.
    for (let i = 0; i < 15 && (await focusedTile()) === null; i++) await page.keyboard.press('Tab');
    expect(await focusedTile()).toBe('0');
    await page.keyboard.press('Tab');
    expect(await focusedTile()).toBeNull();
    await page.keyboard.press('Shift+Tab');
    expect(await focusedTile()).toBe('0');
    await page.keyboard.press('ArrowRight');
    expect(await focusedTile()).toBe('1');
    const columns = await page.locator('.grid-row').first().locator('.tile').count();
    await page.keyboard.press('ArrowDown');
    expect(await focusedTile()).toBe(String(1 + columns));
    await page.keyboard.press('Home');
    expect(await focusedTile()).toBe('0');
    // The ring is drawn above the photo: the tile's ::after has a box-shadow while it has focus.
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement!.closest('.tile')!, '::after').boxShadow);
    expect(ring).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(focusedTile).toBe('0');
  });

  it('flags From later than To at the field, offers "Clear filters", and heads date-sorted results by month', async () => {
    await searchFor(page, 'red');
    await page.getByLabel('Captured from').fill('2024-05-01');
    await page.getByLabel('Captured until').fill('2024-01-01');
    await page.getByLabel('Captured until').dispatchEvent('change');
    await expect.poll(() => page.getByLabel('Captured from').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#dates-error').textContent()).toContain('later than');
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await expect.poll(() => page.getByLabel('Captured from').inputValue()).toBe('');
    await page.locator('.tile').first().waitFor();
    await page.getByLabel('Sort results').selectOption('date');
    await page.locator('.grid-header').first().waitFor();
    const takenAt = (await app['photos.get']({ id: Number(await page.locator('.tile').first().getAttribute('data-photo-id')) })).takenAt;
    expect(await page.locator('.grid-header').first().textContent()).toBe(new Date(takenAt!).toLocaleDateString('en-US', { month: 'long', year: 'numeric' }));
    await page.getByLabel('Sort results').selectOption('relevance');
    await expect.poll(() => page.locator('.grid-header').count()).toBe(0);
    // The tab says what was searched; "/" from elsewhere goes back to the box.
    expect(await page.title()).toBe('red — Search — LeanLens');
    await page.locator('.tile-open').first().focus();
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('search-input');
  });

  it('shows a focus ring on every control the keyboard reaches, in both themes (WCAG 2.4.7)', async () => {
    const unringed: string[] = [];
    for (const view of VIEWS.filter((v) => v.name !== 'preview')) {
      await view.open(page);
      for (const scheme of SCHEMES) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.locator('body').focus();
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        for (let i = 0; i < 40; i++) {
          await page.keyboard.press('Tab');
          const seen = await page.evaluate(() => {
            const el = document.activeElement as HTMLElement | null;
            if (!el || el === document.body) return null;
            const s = getComputedStyle(el);
            const tile = el.closest('.tile');
            const own = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            // Controls that draw their ring on a wrapper: the search box, a switch's track, a segmented label, a tile.
            const wrapper = el.closest('.search-box, .switch, .segmented label');
            const wrapped = wrapper ? getComputedStyle(wrapper).outlineStyle !== 'none' || getComputedStyle(wrapper.querySelector('.switch-track') ?? wrapper).outlineStyle !== 'none' : false;
            const tiled = tile ? getComputedStyle(tile, '::after').boxShadow !== 'none' : false;
            return { ok: own || wrapped || tiled, what: `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 30)}"` };
          });
          if (seen && !seen.ok) unringed.push(`${view.name} ${scheme}: ${seen.what}`);
        }
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect([...new Set(unringed)]).toEqual([]);
  }, 120_000);

  it('answers a mistake in words at the field, marks the field invalid, and logs no console error for it', async () => {
    await page.goto(ui.server.url + '#/library');
    const field = page.getByRole('textbox', { name: 'Add a folder' });
    await field.fill('/no/such/folder/here');
    await page.getByRole('button', { name: 'Add folder' }).click();
    const alert = page.locator('#add-error');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^[A-Z/]/);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
  });

  it('has a favicon and logs no console error on any view (expected API answers included)', async () => {
    const icon = await page.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href ?? null);
    expect(icon).not.toBeNull();
    const r = await page.request.get(icon!);
    expect(r.status()).toBe(200);
    expect(r.headers()['content-type']).toBe('image/svg+xml');
    expect(consoleErrors).toEqual([]);
    expect((await app['index.status']({})).files).toBeGreaterThan(0);
  });
});
