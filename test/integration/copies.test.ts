/**
 * Issue 15 §1: exact copies of one photo in different folders are each listed and searchable, and
 * deleting one copy never removes the others (copies are not moves). Real App, SQLite, sharp,
 * ONNX Runtime (the bundled colour model) and the files on disk.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../main/app/index.ts';
import { COLOURS, writeSolidPhoto } from '../fixtures/photos.ts';

const root = mkdtempSync(join(tmpdir(), 'leanlens-copies-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('exact copies in different folders', () => {
  it('are each listed and found; deleting one copy leaves the others, with their vectors', async () => {
    const trips = join(root, 'Trips');
    const phone = join(root, 'Phone');
    mkdirSync(join(trips, '2024'), { recursive: true });
    mkdirSync(phone);
    const original = join(trips, 'red.jpg');
    await writeSolidPhoto(original, COLOURS.red!, { width: 64, height: 48 });
    await writeSolidPhoto(join(trips, 'blue.jpg'), COLOURS.blue!, { width: 64, height: 48 });
    // The same bytes three more times: another name in a subfolder, the same name in another library folder.
    const copies = [join(trips, '2024', 'red copy.jpg'), join(phone, 'red.jpg'), join(phone, 'IMG_0001.jpg')];
    for (const c of copies) copyFileSync(original, c);
    const reds = [original, ...copies].sort();

    const app = await createApp({ dataDir: join(root, 'data') });
    try {
      await app['folders.add']({ path: trips });
      await app['folders.add']({ path: phone });
      expect(await app.sync()).toMatchObject({ files: 5, indexed: 5, failed: 0 });
      const redHits = async () => (await app['search.text']({ text: 'red', limit: 10, relevance: 'all' })).hits.filter((h) => h.score > 0.5);
      const foundReds = async () => (await redHits()).map((h) => h.photo.path).sort();
      expect(await foundReds()).toEqual(reds);
      const idOf = new Map((await redHits()).map((h) => [h.photo.path, h.photo.id]));
      expect(new Set(idOf.values()).size).toBe(4);

      // Delete one copy (in the other library folder): only that one goes.
      rmSync(copies[1]!);
      const after = await app.sync();
      expect(after).toMatchObject({ files: 4, indexed: 4, failed: 0 });
      expect(await foundReds()).toEqual(reds.filter((p) => p !== copies[1]));
      // Delete the original too: the copies still stand as the same photos (not moved onto).
      rmSync(original);
      expect(await app.sync()).toMatchObject({ files: 3, indexed: 3, pending: 0 });
      const left = await redHits();
      expect(left.map((h) => h.photo.path).sort()).toEqual([copies[0]!, copies[2]!].sort());
      for (const h of left) expect(h.photo.id, h.photo.path).toBe(idOf.get(h.photo.path));
      const folders = await app['folders.list']({});
      expect(folders.map((f) => [f.path, f.photoCount, f.state]).sort()).toEqual([
        [phone, 1, 'idle'],
        [trips, 2, 'idle'],
      ]);
    } finally {
      await app.close();
    }
  }, 180_000);
});
