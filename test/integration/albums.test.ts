/**
 * Smart albums: the albums service on a real SQLite store, and albums through the composed App on
 * a library of generated photos searched with color-oracle (real ONNX Runtime, sharp, hnswlib):
 * an album is its saved search run again, so it follows photos added and removed, survives a
 * switch of model (saying so), survives a restart, and tells the UIs when to look again.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { copyFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../main/app/index.ts';
import { ALBUMS_CHANGED_MS, albumCalls } from '../../main/app/album-calls.ts';
import type { AppContext } from '../../main/app/context.ts';
import { AppError, parseArgs, type Events } from '../../main/core/contract.ts';
import { Albums } from '../../main/services/albums/index.ts';
import { openStore, type Store } from '../../main/services/store/index.ts';
import { writeColourLibrary, writeSolidPhoto } from '../fixtures/photos.ts';

const root = mkdtempSync(join(tmpdir(), 'leanlens-albums-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string) => join(root, `${name}-${++seq}`);

describe('the albums service (real SQLite)', () => {
  let store: Store;
  afterEach(() => store?.close());

  it('saves, finds by id or by name in any case, renames and removes; the saved search reads back as saved', () => {
    store = openStore(join(fresh('svc'), 'library.db'));
    const albums = new Albums(store);
    const query = { text: 'beach 2023 -people in:Holidays', minScore: 0.21, folderId: 3, from: 1, to: 2, sort: 'date' as const };
    const a = albums.save('  Holidays  ', query, 'color-oracle', 1000);
    expect(a).toMatchObject({ name: 'Holidays', query, modelId: 'color-oracle', createdAt: 1000, updatedAt: 1000, queryProblem: null });
    expect(albums.get({ name: 'holidays' }).id).toBe(a.id);
    expect(albums.get({ id: a.id }).query).toEqual(query);
    const b = albums.save('Reds', { text: 'red' }, null);
    expect(albums.list().map((x) => x.name)).toEqual(['Holidays', 'Reds']);
    expect(albums.rename({ id: b.id }, 'Apples', 5000)).toMatchObject({ name: 'Apples', updatedAt: 5000, createdAt: b.createdAt });
    expect(albums.list().map((x) => x.name)).toEqual(['Apples', 'Holidays']);
    albums.remove({ name: 'APPLES' });
    expect(albums.list().map((x) => x.name)).toEqual(['Holidays']);
    expect(() => albums.get({ name: 'Apples' })).toThrow(/no album named "Apples"/);
  });

  it('refuses a name already taken, in any case, and changes nothing', () => {
    store = openStore(join(fresh('svc'), 'library.db'));
    const albums = new Albums(store);
    albums.save('Holidays', { text: 'beach' }, 'm');
    const other = albums.save('Reds', { text: 'red' }, 'm');
    const taken = () => albums.save('HOLIDAYS', { text: 'mountains' }, 'm');
    expect(taken).toThrow(AppError);
    expect(taken).toThrow(/an album named "HOLIDAYS" already exists/);
    expect(() => albums.rename({ id: other.id }, 'holidays')).toThrow(/already exists/);
    expect(albums.list().map((x) => [x.name, x.query?.text])).toEqual([
      ['Holidays', 'beach'],
      ['Reds', 'red'],
    ]);
  });

  it('refuses empty names and searches with neither words nor filters', () => {
    store = openStore(join(fresh('svc'), 'library.db'));
    const albums = new Albums(store);
    expect(() => albums.save('   ', { text: 'red' }, null)).toThrow(/give the album a name/);
    expect(() => albums.save('x'.repeat(101), { text: 'red' }, null)).toThrow(/at most 100/);
    expect(() => albums.save('Nothing', { text: '  ' }, null)).toThrow(/needs search words or a filter/);
    // Filters alone are a search (a folder, a date range).
    expect(albums.save('Folder 1', { text: '', folderId: 1 }, null).query).toEqual({ text: '', folderId: 1 });
    expect(albums.list()).toHaveLength(1);
  });

  it('lists an album whose stored search no longer reads, with the reason, instead of failing the list', () => {
    store = openStore(join(fresh('svc'), 'library.db'));
    const albums = new Albums(store);
    albums.save('Good', { text: 'red' }, null);
    store.db.prepare("INSERT INTO albums(name, query, model_id, created_at, updated_at) VALUES ('Broken', '{not json', NULL, 1, 1)").run();
    store.db.prepare("INSERT INTO albums(name, query, model_id, created_at, updated_at) VALUES ('Odd', '{\"text\": 5}', NULL, 1, 1)").run();
    const listed = albums.list();
    expect(listed.map((a) => [a.name, a.query === null, a.queryProblem !== null])).toEqual([
      ['Broken', true, true],
      ['Good', false, false],
      ['Odd', true, true],
    ]);
    expect(listed[0]!.queryProblem).toMatch(/not valid JSON/);
  });

  it('checks names and searches at the contract too, for every transport', () => {
    expect(() => parseArgs('albums.save', { name: '', query: { text: 'red' } })).toThrow(/name/);
    expect(() => parseArgs('albums.save', { name: 'A', query: { text: 'red', minScore: 2 } })).toThrow(/minScore/);
    expect(() => parseArgs('albums.get', { id: 1, name: 'A' })).toThrow(/exactly one of id or name/);
    expect(() => parseArgs('albums.remove', {})).toThrow(/exactly one of id or name/);
    expect(parseArgs('albums.save', { name: ' Reds ', query: { text: 'red', limit: 5 } })).toEqual({ name: 'Reds', query: { text: 'red' } });
  });
});

describe("'albums.changed' is throttled", () => {
  let store: Store;
  afterEach(() => store?.close());

  /** The album calls over a real store; only what the throttle reads of the app is filled in. */
  function withEvents() {
    store = openStore(join(fresh('events'), 'library.db'));
    const seen: Events['albums.changed'][] = [];
    const ctx = {
      store,
      model: { id: 'color-oracle' },
      library: { listFolders: () => [] },
      emit: (event: string, payload: Events['albums.changed']) => {
        if (event === 'albums.changed') seen.push(payload);
      },
    } as unknown as AppContext;
    const search = { 'search.text': async () => ({ hits: [], total: 0, modelId: 'color-oracle', tookMs: 0 }) };
    return { calls: albumCalls(ctx, search), seen };
  }
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('sends nothing while there are no albums, then one event for a burst of changes, a model change winning', async () => {
    const { calls, seen } = withEvents();
    calls.changed('library');
    await wait(ALBUMS_CHANGED_MS + 100);
    expect(seen).toEqual([]);
    await calls.calls['albums.save']({ name: 'Reds', query: { text: 'red' } });
    expect(seen).toEqual([{ cause: 'albums' }]);
    for (let i = 0; i < 20; i++) calls.changed(i === 7 ? 'model' : 'library');
    await wait(ALBUMS_CHANGED_MS + 100);
    expect(seen).toEqual([{ cause: 'albums' }, { cause: 'model' }]);
    calls.changed('library');
    calls.close();
    await wait(ALBUMS_CHANGED_MS + 100);
    expect(seen).toHaveLength(2);
  });
});

describe('albums through the app (color-oracle, real photos)', () => {
  let app: App | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  async function library(): Promise<{ data: string; photos: string }> {
    const dir = fresh('app');
    const photos = join(dir, 'photos');
    await writeColourLibrary(photos);
    return { data: join(dir, 'data'), photos };
  }

  it('runs the saved search: the same photos as the search itself, following photos added and removed', async () => {
    const { data, photos } = await library();
    app = await createApp({ dataDir: data });
    await app['folders.add']({ path: photos });
    await app.sync();
    const query = { text: 'red', minScore: 0.5 };
    const direct = await app['search.text']({ ...query, limit: 100 });
    expect(direct.hits[0]?.photo.name).toBe('red.jpg');
    const album = await app['albums.save']({ name: 'Reds', query });
    expect(album).toMatchObject({ name: 'Reds', count: direct.total, savedWith: 'color-oracle', searchesWith: 'color-oracle', problem: null });
    const shown = await app['albums.get']({ name: 'reds' });
    expect(shown.result.hits.map((h) => h.photo.id)).toEqual(direct.hits.map((h) => h.photo.id));

    await writeSolidPhoto(join(photos, 'new-red.jpg'), [200, 20, 25], { noise: 4 });
    await app.sync();
    const after = await app['albums.get']({ id: album.id });
    expect(after.album.count).toBe(direct.total + 1);
    expect(after.result.hits.map((h) => h.photo.name)).toContain('new-red.jpg');

    await unlink(join(photos, 'red.jpg'));
    await app.sync();
    const [listed] = await app['albums.list']({});
    expect(listed).toMatchObject({ name: 'Reds', count: direct.total });
    expect((await app['albums.get']({ id: album.id })).result.hits.map((h) => h.photo.name)).not.toContain('red.jpg');
  });

  it('refuses a duplicate name over the app, and says which album is missing', async () => {
    const { data } = await library();
    app = await createApp({ dataDir: data });
    await app['albums.save']({ name: 'Reds', query: { text: 'red' } });
    await expect(app['albums.save']({ name: 'reds', query: { text: 'crimson' } })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringMatching(/already exists/),
    });
    await expect(app['albums.get']({ name: 'Blues' })).rejects.toMatchObject({ code: 'not-found' });
    expect((await app['albums.list']({})).map((a) => a.query.text)).toEqual(['red']);
  });

  it("says when an album's folder has been removed from the library", async () => {
    const { data, photos } = await library();
    app = await createApp({ dataDir: data });
    const folder = await app['folders.add']({ path: photos });
    await app.sync();
    await app['albums.save']({ name: 'In photos', query: { text: 'blue', folderId: folder.id } });
    expect((await app['albums.list']({}))[0]).toMatchObject({ count: 11, problem: null });
    await app['folders.remove']({ id: folder.id });
    expect((await app['albums.list']({}))[0]).toMatchObject({ count: 0, problem: expect.stringMatching(/folder has been removed/) });
  });

  it('tells the UIs to look again after photos are indexed', async () => {
    const { data, photos } = await library();
    app = await createApp({ dataDir: data });
    await app['folders.add']({ path: photos });
    await app.sync();
    await app['albums.save']({ name: 'Reds', query: { text: 'red', minScore: 0.5 } });
    const seen: Events['albums.changed'][] = [];
    app.on('albums.changed', (e) => seen.push(e));
    await copyFile(join(photos, 'red.jpg'), join(photos, 'red copy.jpg'));
    await writeSolidPhoto(join(photos, 'another-red.jpg'), [210, 25, 30], { noise: 5 });
    await app.sync();
    await expect.poll(() => seen, { timeout: 5000 }).toContainEqual({ cause: 'library' });
  });

  it('survives a switch of model and a restart, and says which model it was saved with', async () => {
    const { data, photos } = await library();
    app = await createApp({ dataDir: data });
    await app['folders.add']({ path: photos });
    await app.sync();
    await app['albums.save']({ name: 'Reds', query: { text: 'red', minScore: 0.5 } });
    await app['albums.save']({ name: 'Everything blue first', query: { text: 'blue' } });
    const seen: Events['albums.changed'][] = [];
    app.on('albums.changed', (e) => seen.push(e));

    await app['models.use']({ id: 'tiny-clip', now: true });
    await app.sync(); // tiny-clip indexes the library
    await expect.poll(() => seen, { timeout: 5000 }).toContainEqual({ cause: 'model' });
    const listed = await app['albums.list']({});
    expect(listed.map((a) => [a.name, a.savedWith, a.searchesWith])).toEqual([
      ['Everything blue first', 'color-oracle', 'tiny-clip'],
      ['Reds', 'color-oracle', 'tiny-clip'],
    ]);
    // No cut-off: every indexed photo, now ranked by tiny-clip.
    const blue = await app['albums.get']({ name: 'Everything blue first' });
    expect(blue.result.modelId).toBe('tiny-clip');
    expect(blue.album.count).toBe(11);

    await app.close();
    app = await createApp({ dataDir: data });
    const again = await app['albums.list']({});
    expect(again.map((a) => [a.name, a.query, a.savedWith, a.searchesWith])).toEqual([
      ['Everything blue first', { text: 'blue' }, 'color-oracle', 'tiny-clip'],
      ['Reds', { text: 'red', minScore: 0.5 }, 'color-oracle', 'tiny-clip'],
    ]);
    // Back on the model it was saved with, it finds what it found then.
    await app['models.use']({ id: 'color-oracle' });
    const reds = await app['albums.get']({ name: 'Reds' });
    expect(reds.album.searchesWith).toBe('color-oracle');
    expect(reds.result.hits[0]?.photo.name).toBe('red.jpg');
  });
});
