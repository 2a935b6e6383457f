/**
 * The model in use, through the composed App: switches are serialised (the last one chosen wins,
 * whatever the timing), settings that shape the encoder apply without a restart, and search keeps
 * answering across a switch. Real ONNX Runtime, hnswlib, SQLite on temp folders.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BUNDLED_MODELS_DIR as BUNDLED, createApp, type App } from '../../main/app/index.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';

const root = mkdtempSync(join(tmpdir(), 'leanlens-active-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let app: App | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

let seq = 0;
async function openApp(): Promise<App> {
  const dir = join(root, `case-${++seq}`);
  app = await createApp({ dataDir: join(dir, 'data') });
  return app;
}

describe('ActiveModel through the app', () => {
  it('ends on the last model chosen when switches are asked for in quick succession', async () => {
    const a = await openApp();
    // Not awaited one by one: each call starts while the one before is still opening its encoder.
    const switches = [a['models.use']({ id: 'tiny-clip' }), a['models.use']({ id: 'color-oracle' }), a['models.use']({ id: 'tiny-clip' })];
    await Promise.all(switches);
    expect((await a['models.list']({})).find((m) => m.active)?.id).toBe('tiny-clip');
    const status = await a['index.status']({});
    expect(status.model).toBe('tiny-clip');
    // The open session really is the last one: a query vector has tiny-clip's dimension.
    await a['search.text']({ text: 'red' });
    expect((await a['index.status']({})).model).toBe('tiny-clip');
  });

  it('applies a change of threads to the open encoder without a restart', async () => {
    const a = await openApp();
    const photos = join(root, `photos-${seq}`);
    await writeColourLibrary(photos);
    await a['folders.add']({ path: photos });
    await a.sync();
    const before = (await a['index.status']({})).execution;
    expect(before?.threads).toBeGreaterThan(0);
    const wanted = before!.threads === 1 ? 2 : 1;
    await a['settings.set']({ threads: wanted });
    await a['search.text']({ text: 'red' });
    await a.sync(); // loads the image tower again with the new settings
    expect((await a['index.status']({})).execution?.threads).toBe(wanted);
  });

  it('keeps answering searches while and after switching, on the same library', async () => {
    const a = await openApp();
    const photos = join(root, `photos-${seq}`);
    await writeColourLibrary(photos);
    await a['folders.add']({ path: photos });
    await a.sync();
    const during = a['search.text']({ text: 'red' });
    const switching = a['models.use']({ id: 'tiny-clip' });
    expect((await during).hits.length).toBeGreaterThan(0);
    await switching;
    await a['models.use']({ id: 'color-oracle' });
    const back = await a['search.text']({ text: 'red', limit: 3 });
    expect(back.hits[0]?.photo.name).toMatch(/red/);
  });
});

describe('switching models without downtime', () => {
  /** A colour library indexed with color-oracle, then reopened live (watching, indexing in the background). */
  async function indexedLiveApp(): Promise<{ a: App; photos: string }> {
    const dir = join(root, `live-${++seq}`);
    const photos = join(dir, 'photos');
    await writeColourLibrary(photos);
    const pre = await createApp({ dataDir: join(dir, 'data') });
    await pre['folders.add']({ path: photos });
    await pre.sync();
    await pre.close();
    app = await createApp({ dataDir: join(dir, 'data'), live: true });
    return { a: app, photos };
  }

  it('keeps searching with the current model while the new one indexes, then takes over by itself', async () => {
    const { a } = await indexedLiveApp();
    const switched = new Promise<string>((resolve) => {
      const off = a.on('models.changed', (models) => {
        const active = models.find((m) => m.active)?.id;
        if (active === 'tiny-clip') {
          off();
          resolve(active);
        }
      });
    });
    const progress: number[] = [];
    a.on('models.switching', (s) => s && progress.push(s.progress.done));
    const info = await a['models.use']({ id: 'tiny-clip' });
    expect(info.active).toBe(false); // not yet: it has no vectors
    expect((await a['index.status']({})).switching?.to).toBe('tiny-clip');
    let searches = 0;
    let failures = 0;
    let done = false;
    void switched.then(() => (done = true));
    while (!done) {
      try {
        const r = await a['search.text']({ text: 'red', limit: 3 });
        if (r.hits.length === 0) failures++;
        searches++;
      } catch {
        failures++;
      }
    }
    expect(await switched).toBe('tiny-clip');
    expect(searches).toBeGreaterThan(0);
    expect(failures).toBe(0);
    expect(progress.length).toBeGreaterThan(0);
    const status = await a['index.status']({});
    expect(status.model).toBe('tiny-clip');
    expect(status.switching).toBeNull();
    // Switching back is instant: color-oracle's vectors stayed.
    const back = await a['models.use']({ id: 'color-oracle' });
    expect(back.active).toBe(true);
    expect((await a['search.text']({ text: 'red', limit: 1 })).hits[0]?.photo.name).toMatch(/red/);
  }, 120_000);

  it('switches at once with now, before the new model has indexed anything', async () => {
    const { a } = await indexedLiveApp();
    const info = await a['models.use']({ id: 'tiny-clip', now: true });
    expect(info.active).toBe(true);
    expect((await a['index.status']({})).switching).toBeNull();
  }, 60_000);

  it('records the switch in a one-shot process and carries it out in sync (the CLI\'s index)', async () => {
    const a = await openApp();
    const photos = join(root, `photos-${seq}`);
    await writeColourLibrary(photos);
    await a['folders.add']({ path: photos });
    await a.sync();
    await a['models.use']({ id: 'tiny-clip' });
    expect((await a['index.status']({})).model).toBe('color-oracle');
    expect((await a['index.status']({})).switching?.to).toBe('tiny-clip');
    const status = await a.sync();
    expect(status.model).toBe('tiny-clip');
    expect(status.switching).toBeNull();
    expect((await a['models.list']({})).find((m) => m.active)?.id).toBe('tiny-clip');
  }, 60_000);

  it('removes an imported model with its vectors, and refuses the model in use', async () => {
    const a = await openApp();
    const photos = join(root, `photos-${seq}`);
    await writeColourLibrary(photos);
    await a['folders.add']({ path: photos });
    const imported = await a['models.import']({ path: join(BUNDLED, 'tiny-clip') });
    await a['models.use']({ id: imported.id, now: true });
    await a.sync();
    await expect(a['models.remove']({ id: imported.id })).rejects.toThrow(/switch to another model first/);
    await a['models.use']({ id: 'color-oracle' });
    await a.sync();
    const listed = await a['models.remove']({ id: imported.id });
    expect(listed.map((m) => m.id)).not.toContain(imported.id);
    expect(existsSync(join(a.dataDir, 'models', imported.id))).toBe(false);
    const db = new Database(join(a.dataDir, 'library.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM vectors WHERE model_id = ?').pluck().get(imported.id)).toBe(0);
      expect(db.prepare('SELECT count(*) FROM vectors WHERE model_id = ?').pluck().get('color-oracle')).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    await expect(a['models.remove']({ id: 'tiny-clip' })).rejects.toThrow(/ships with LeanLens/);
  }, 60_000);
});
