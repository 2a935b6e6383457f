/**
 * The Photos timeline's SQL on a real SQLite library: day counts by GROUP BY in the same order as
 * the pages, pages that never repeat or skip a photo, a photo's position, and migration 007's
 * backfill of where old rows' dates came from.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../../main/services/store/index.ts';
import { timelineDays, timelinePage, timelinePosition } from '../../main/services/library/index.ts';
import { addFolder, addPhoto, tempDir, tempStore } from '../fixtures/vector-db.ts';

let store: Store | null = null;
let dir = '';
afterEach(() => {
  store?.close();
  store = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const at = (y: number, m: number, d: number, h = 12) => new Date(y, m - 1, d, h).getTime();

function seed(): { ids: Record<string, number> } {
  ({ store, dir } = tempStore());
  const folderId = addFolder(store, '/photos');
  const ids: Record<string, number> = {};
  const put = (name: string, takenAt: number | null, status: 'indexed' | 'pending' | 'failed' = 'indexed') =>
    (ids[name] = addPhoto(store!, { folderId, path: `/photos/${name}.jpg`, status, takenAt }));
  put('a-morning', at(2024, 5, 3, 8));
  put('a-evening', at(2024, 5, 3, 20));
  put('b', at(2024, 5, 1));
  put('c-tie-1', at(2023, 12, 31));
  put('c-tie-2', at(2023, 12, 31)); // same time: the later id comes first
  put('pending', null, 'pending');
  put('failed', at(2025, 1, 1), 'failed');
  return { ids };
}

describe('timeline', () => {
  it('counts days newest first, and pages in the same order', () => {
    const { ids } = seed();
    expect(timelineDays(store!)).toEqual({
      total: 5,
      days: [
        { day: '2024-05-03', count: 2 },
        { day: '2024-05-01', count: 1 },
        { day: '2023-12-31', count: 2 },
      ],
    });
    const all = timelinePage(store!, 0, 100).map((p) => p.id);
    expect(all).toEqual([ids['a-evening'], ids['a-morning'], ids.b, ids['c-tie-2'], ids['c-tie-1']]);
    // Pages of 2 join into the same list: no photo repeated or skipped at a boundary (ties included).
    const paged = [0, 2, 4].flatMap((o) => timelinePage(store!, o, 2).map((p) => p.id));
    expect(paged).toEqual(all);
    expect(timelinePage(store!, 0, 1)[0]).toMatchObject({ name: 'a-evening.jpg', path: '/photos/a-evening.jpg', takenAt: at(2024, 5, 3, 20) });
  });

  it("gives a photo's index, null for one outside the timeline", () => {
    const { ids } = seed();
    const order = timelinePage(store!, 0, 100).map((p) => p.id);
    for (const [i, id] of order.entries()) expect(timelinePosition(store!, id)).toBe(i);
    expect(timelinePosition(store!, ids.pending!)).toBeNull();
    expect(timelinePosition(store!, ids.failed!)).toBeNull();
    expect(timelinePosition(store!, 99_999)).toBeNull();
  });

  it('migration 007 backfills the date source of rows indexed before it', () => {
    dir = tempDir();
    const file = join(dir, 'library.db');
    // A database as it was before 007 (every earlier migration applied), one photo dated by EXIF, one by its file time.
    const old = new Database(file);
    const migrations = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'main', 'services', 'store', 'migrations');
    for (const f of readdirSync(migrations).filter((n) => /^\d{3}_/.test(n) && Number(n.slice(0, 3)) < 7).sort()) {
      old.exec(readFileSync(join(migrations, f), 'utf8'));
      old.pragma(`user_version = ${Number(f.slice(0, 3))}`);
    }
    old.exec(`INSERT INTO folders(id, path, added_at) VALUES (1, '/p', 0);
      INSERT INTO photos(id, folder_id, path, size, mtime_ms, taken_at, status, updated_at) VALUES (1, 1, '/p/exif.jpg', 1, 1000, 500, 'indexed', 0);
      INSERT INTO photos(id, folder_id, path, size, mtime_ms, taken_at, status, updated_at) VALUES (2, 1, '/p/file.jpg', 1, 2000, 2000, 'indexed', 0);
      INSERT INTO photos(id, folder_id, path, size, mtime_ms, taken_at, status, updated_at) VALUES (3, 1, '/p/new.jpg', 1, 3000, NULL, 'pending', 0);`);
    old.close();
    store = openStore(file);
    const rows = store.db.prepare('SELECT id, taken_at_source AS s FROM photos ORDER BY id').all();
    expect(rows).toEqual([{ id: 1, s: 'exif' }, { id: 2, s: 'file' }, { id: 3, s: null }]);
    expect(() => store!.db.prepare("UPDATE photos SET taken_at_source = 'guess' WHERE id = 1").run()).toThrow(/CHECK/);
  });
});
