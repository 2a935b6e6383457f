/**
 * The live app (createApp({ live: true })): chokidar watching + background indexer, end to end
 * with real ONNX Runtime (color-oracle, whose results can be checked by colour). Every wait polls
 * for the outcome with a generous timeout; nothing asserts on timing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, rename, unlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../main/app/index.ts';
import type { Events } from '../../main/core/contract.ts';
import { COLOURS, writeColourLibrary, writeSolidPhoto } from '../fixtures/photos.ts';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-live-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let app: App | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

let seq = 0;
async function place() {
  const dir = join(root, `case-${++seq}`);
  const photos = join(dir, 'Photos');
  await mkdir(photos, { recursive: true });
  return { dir, photos, data: join(dir, 'data') };
}

async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v as T;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function hits(a: App, text: string, limit = 50) {
  return (await a['search.text']({ text, limit, relevance: 'all' })).hits; // every photo, ranked: these tests follow photos in and out
}

/** The photo row the app holds for a path (any status), via the contract. */
async function photoAt(a: App, path: string) {
  const id = a.photoIdByPath(path);
  return id === null ? null : a['photos.get']({ id });
}

describe('live app', () => {
  it('a photo copied into the watched folder becomes searchable and fires library.changed', async () => {
    const { dir, photos, data } = await place();
    await writeColourLibrary(photos, ['red', 'blue']);
    app = await createApp({ dataDir: data, live: true });
    const changes: Events['library.changed'][] = [];
    app.on('library.changed', (c) => changes.push(c));
    await app['folders.add']({ path: photos });
    await waitFor(async () => (await app!['index.status']({})).indexed === 2 || null, 'the first two photos');
    expect((await app['folders.list']({}))[0]!.state).toBe('watching');

    const staged = join(dir, 'green.jpg');
    await writeSolidPhoto(staged, COLOURS.green!, { noise: 4 });
    const dest = join(photos, 'new', 'green photo ✓.jpg');
    await mkdir(join(photos, 'new'));
    await copyFile(staged, dest);
    const hit = await waitFor(async () => (await hits(app!, 'green', 1)).find((h) => h.photo.path === dest), 'the copied photo in search');
    expect(changes.some((c) => c.added.includes(hit.photo.id))).toBe(true);
    expect((await app['index.status']({})).indexed).toBe(3);
  }, 60_000);

  it('an edited photo is re-encoded; a deleted photo leaves search; a renamed photo keeps its id without a re-encode', async () => {
    const { photos, data } = await place();
    const [red, blue, yellow, gray] = await writeColourLibrary(photos, ['red', 'blue', 'yellow', 'gray']);
    app = await createApp({ dataDir: data, live: true });
    const changes: Events['library.changed'][] = [];
    app.on('library.changed', (c) => changes.push(c));
    await app['folders.add']({ path: photos });
    await waitFor(async () => (await app!['index.status']({})).indexed === 4 || null, 'the library to be indexed');

    // Edit: red.jpg becomes purple. Same id, new vector: it now answers "purple", not "red".
    const redId = app.photoIdByPath(red!)!;
    await writeSolidPhoto(red!, COLOURS.purple!, { noise: 4, width: 80, height: 60 });
    await utimes(red!, new Date(), new Date(Date.now() + 10_000));
    await waitFor(async () => (await hits(app!, 'purple', 1))[0]?.photo.id === redId, 'the edited photo to be re-encoded');
    expect(app.photoIdByPath(red!)).toBe(redId);
    // Its old red vector is gone: "red" scores it like any photo without red (the old one scored ≈ 1).
    const redScore = (await hits(app, 'red', 10)).find((h) => h.photo.id === redId)?.score ?? 0;
    expect(redScore).toBeLessThan(0.5);

    // Delete: blue leaves search and the library.
    const blueId = app.photoIdByPath(blue!)!;
    await unlink(blue!);
    await waitFor(async () => !(await hits(app!, 'blue')).some((h) => h.photo.id === blueId), 'the deleted photo to leave search');
    expect(app.photoIdByPath(blue!)).toBeNull();
    expect(changes.some((c) => c.removed.includes(blueId))).toBe(true);

    // Rename: same id, same vector (the score is identical), never decoded again. The photo renamed
    // is not the newest row, so SQLite's rowid reuse cannot make a delete + re-add look like a kept
    // id: gray.jpg, or yellow.jpg when the scan happened to give gray the highest id.
    const maxId = Math.max(...(await hits(app, 'a photo')).map((h) => h.photo.id));
    const [colour, file] = app.photoIdByPath(gray!)! < maxId ? ['gray', gray!] : ['yellow', yellow!];
    const id = app.photoIdByPath(file)!;
    expect(id).toBeLessThan(maxId);
    const scoreBefore = (await hits(app, colour, 1))[0]!;
    expect(scoreBefore.photo.id).toBe(id);
    let reEncoded = false;
    const off = app.on('index.progress', (p) => {
      if (p.current?.includes('stone wall')) reEncoded = true;
    });
    const renamed = join(photos, 'stone wall.jpg');
    await rename(file, renamed);
    const moved = await waitFor(async () => (await hits(app!, colour, 1)).find((h) => h.photo.path === renamed), 'the renamed photo in search');
    off();
    expect(moved.photo.id).toBe(id);
    expect(moved.score).toBe(scoreBefore.score);
    expect(reEncoded).toBe(false);
    expect((await photoAt(app, renamed))?.status).toBe('indexed');
    expect(changes.some((c) => c.changed.includes(id))).toBe(true);
  }, 90_000);

  it('changes made while the app was closed are reconciled at the next start', async () => {
    const { dir, photos, data } = await place();
    const [red, green, blue] = await writeColourLibrary(photos, ['red', 'green', 'blue', 'white']);
    app = await createApp({ dataDir: data, live: true });
    await app['folders.add']({ path: photos });
    await waitFor(async () => (await app!['index.status']({})).indexed === 4 || null, 'the library to be indexed');
    const greenId = app.photoIdByPath(green!)!;
    const blueId = app.photoIdByPath(blue!)!;
    await app.close();
    app = null;

    // While closed: one deleted, one added, one renamed, one edited.
    await unlink(red!);
    const orange = join(photos, 'orange.jpg');
    await writeSolidPhoto(orange, COLOURS.orange!, { noise: 4 });
    const renamedGreen = join(photos, 'garden.jpg');
    await rename(green!, renamedGreen);
    await writeSolidPhoto(blue!, COLOURS.pink!, { noise: 4, width: 70, height: 50 });
    await utimes(blue!, new Date(), new Date(Date.now() + 10_000));
    void dir;

    app = await createApp({ dataDir: data });
    const status = await app.sync();
    expect(status).toMatchObject({ files: 4, indexed: 4, pending: 0, failed: 0 });
    expect(app.photoIdByPath(red!)).toBeNull();
    expect((await hits(app, 'orange', 1))[0]!.photo.path).toBe(orange);
    expect(app.photoIdByPath(renamedGreen)).toBe(greenId);
    expect((await hits(app, 'green', 1))[0]!.photo.path).toBe(renamedGreen);
    expect(app.photoIdByPath(blue!)).toBe(blueId);
    expect((await hits(app, 'pink', 1))[0]!.photo.id).toBe(blueId);
    expect((await hits(app, 'a photo')).map((h) => h.photo.path)).not.toContain(red);

    // And a live start does the same reconcile on its own (no sync call).
    await app.close();
    await unlink(orange);
    app = await createApp({ dataDir: data, live: true });
    await waitFor(async () => !(await hits(app!, 'a photo')).some((h) => h.photo.path === orange) || null, 'the photo deleted while closed to leave');
    expect((await app['index.status']({})).files).toBe(3);
  }, 90_000);
  it('a photo added while the live app starts (after its scan, before its watcher is ready) is not missed (found by the soak)', async () => {
    const { photos, data } = await place();
    await writeColourLibrary(photos, ['red', 'blue']);
    app = await createApp({ dataDir: data });
    await app['folders.add']({ path: photos });
    // The moment a scan has just finished: a photo appears then (written at once, synchronously).
    const outside = join(root, `late-${seq}.jpg`);
    await writeSolidPhoto(outside, COLOURS.green!);
    const bytes = readFileSync(outside);
    const late = join(photos, 'late.jpg');
    let scanning = false;
    let written = false;
    app.on('folders.changed', (folders) => {
      if (folders.some((f) => f.state === 'scanning')) scanning = true;
      else if (scanning && !written) {
        writeFileSync(late, bytes);
        written = true;
      }
    });
    await app.startLive();
    expect(written).toBe(true);
    await waitFor(async () => app!.photoIdByPath(late), 'the photo added at start-up to be in the library', 15_000);
  });
});
