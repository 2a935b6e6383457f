/**
 * "More like these" through the real app (color-oracle model, real indexing): several photos
 * search by their mean direction, all of them are left out of the answer, and the argument must
 * name exactly one source. The timeline calls answer on the same indexed library.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../main/app/index.ts';
import { parseArgs } from '../../main/core/contract.ts';
import { COLOURS, writeColourLibrary } from '../fixtures/photos.ts';

let tmp: string;
let app: App;
const id: Record<string, number> = {};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'leanlens-similar-many-'));
  const photos = join(tmp, 'photos');
  mkdirSync(photos);
  await writeColourLibrary(photos);
  app = await createApp({ dataDir: join(tmp, 'data') });
  await app['folders.add']({ path: photos });
  await app.sync();
  const all = await app['photos.page']({ offset: 0, limit: 100 });
  for (const p of all) id[p.name.replace(/\.jpg$/, '')] = p.id;
}, 120_000);

afterAll(async () => {
  await app?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('more like these', () => {
  it('searches by the mean of several photos and leaves them all out', async () => {
    expect(Object.keys(id).length).toBe(Object.keys(COLOURS).length);
    const chosen = [id.red!, id.yellow!];
    const r = await app['search.similar']({ photoIds: chosen, minScore: -1, limit: 100 });
    const ids = r.hits.map((h) => h.photo.id);
    for (const c of chosen) expect(ids).not.toContain(c);
    expect(r.hits).toHaveLength(Object.keys(COLOURS).length - 2);
    // Between red and yellow lies orange: it must rank above either colour's own far side (blue).
    const rank = (name: string) => ids.indexOf(id[name]!);
    if (id.orange !== undefined && id.blue !== undefined) expect(rank('orange')).toBeLessThan(rank('blue'));
    // One photo given as a list is the same search as the photo alone.
    const one = await app['search.similar']({ photoIds: [id.red!], minScore: -1, limit: 100 });
    const single = await app['search.similar']({ photoId: id.red!, minScore: -1, limit: 100 });
    expect(one.hits.map((h) => h.photo.id)).toEqual(single.hits.map((h) => h.photo.id));
  });

  it('refuses an argument naming no source or two (checked by the contract, whatever the transport)', () => {
    expect(() => parseArgs('search.similar', { photoId: 1, photoIds: [2] })).toThrow(/exactly one of photoId, photoIds or imageBase64/);
    expect(() => parseArgs('search.similar', {})).toThrow(/exactly one/);
    expect(() => parseArgs('search.similar', { photoIds: [] })).toThrow(/photoIds/);
    expect(parseArgs('search.similar', { photoIds: [1, 2] })).toMatchObject({ photoIds: [1, 2] });
    expect(() => parseArgs('photos.page', { offset: 0, limit: 5000 })).toThrow(/limit/);
  });

  it('lists the indexed library in the timeline with each photo once', async () => {
    const t = await app['photos.timeline']({});
    expect(t.total).toBe(Object.keys(COLOURS).length);
    const page = await app['photos.page']({ offset: 0, limit: 2000 });
    expect(new Set(page.map((p) => p.id)).size).toBe(t.total);
    for (const p of page) expect(p.takenAtSource).toBe('file'); // generated photos carry no EXIF date
    expect((await app['photos.position']({ id: page[3]!.id })).index).toBe(3);
  });
});
