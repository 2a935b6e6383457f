/**
 * The model in use, through the composed App: switches are serialised (the last one chosen wins,
 * whatever the timing), settings that shape the encoder apply without a restart, and search keeps
 * answering across a switch. Real ONNX Runtime, hnswlib, SQLite on temp folders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../main/app/index.ts';
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
