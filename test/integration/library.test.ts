/**
 * Library: folders, scans and reconciliation against real files, a real SQLite database and real
 * JPEGs written by sharp. The watcher has its own file (library-watch.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFile, chmod, mkdir, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { accessSync, constants, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeSolidPhoto } from '../fixtures/photos.ts';
import { hashFile, Library } from '../../main/services/library/index.ts';
import { makeHarness, writePhotos, reported, type Harness } from './library-helpers.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const RED: [number, number, number] = [220, 30, 30];
const GREEN: [number, number, number] = [30, 170, 50];
const BLUE: [number, number, number] = [30, 60, 210];

/** n photos of distinct colours (distinct content, so distinct hashes) under `dir`. */

function canRead(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

describe('hashFile', () => {
  it('is the sha256 of the bytes', async () => {
    h = await makeHarness();
    const p = join(h.photos, 'a.jpg');
    await writeSolidPhoto(p, RED);
    expect(await hashFile(p)).toBe(createHash('sha256').update(await readFile(p)).digest('hex'));
  });
});

describe('adding folders', () => {
  it('adds photos recursively as pending rows and skips non-photos, hidden and system folders, and the ignore path', async () => {
    h = await makeHarness();
    const { photos } = h;
    await writeSolidPhoto(join(photos, 'a.jpg'), RED);
    await writeSolidPhoto(join(photos, 'deep', 'er', 'B.JPEG'), GREEN);
    await writeSolidPhoto(join(photos, 'c.png'), BLUE, { format: 'png' });
    await writeFile(join(photos, 'notes.txt'), 'not a photo');
    await writeSolidPhoto(join(photos, '.hidden.jpg'), RED);
    await writeSolidPhoto(join(photos, '.cache', 'x.jpg'), RED);
    await writeSolidPhoto(join(photos, '@eaDir', 'thumb.jpg'), RED);
    await writeSolidPhoto(join(photos, '$RECYCLE.BIN', 'old.jpg'), RED);
    // The app's data folder inside a photo folder: its thumbnails must never become photos.
    const data = join(photos, 'LeanLens data');
    await writeSolidPhoto(join(data, 'thumbnails', 't.jpg'), RED);
    const store = h.store;
    const library = new Library({ store, ignore: [data] });

    const folder = await library.addFolder(photos);
    expect(folder.path).toBe(photos);
    expect(folder.photoCount).toBe(3);
    expect(folder.state).toBe('idle');
    const rows = h.rows();
    expect(rows.map((r) => r.path)).toEqual([join(photos, 'a.jpg'), join(photos, 'c.png'), join(photos, 'deep', 'er', 'B.JPEG')]);
    for (const r of rows) {
      expect(r.status).toBe('pending');
      expect(r.folder_id).toBe(folder.id);
      expect(r.hash).toBe(await hashFile(r.path));
      expect(r.size).toBeGreaterThan(0);
    }
    expect(library.listFolders()).toHaveLength(1);
  });

  it('gives clear errors for a missing path, a file, and the data folder', async () => {
    h = await makeHarness();
    await expect(h.library.addFolder(join(h.dir, 'nope'))).rejects.toThrow(/Folder not found/);
    const file = join(h.photos, 'a.jpg');
    await writeSolidPhoto(file, RED);
    await expect(h.library.addFolder(file)).rejects.toThrow(/Not a folder/);
    await mkdir(h.dataDir, { recursive: true });
    await expect(h.library.addFolder(h.dataDir)).rejects.toThrow(/data folder/);
    expect(h.library.listFolders()).toEqual([]);
  });

  it('refuses an unreadable folder', async (ctx) => {
    h = await makeHarness();
    const locked = join(h.photos, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o000);
    if (canRead(locked)) ctx.skip('running as root: chmod 000 does not stop reads, so an unreadable folder cannot be made this way');
    await expect(h.library.addFolder(locked)).rejects.toThrow(/Cannot read folder/);
  });

  it('resolves the real path, so a folder added through a link is the same folder', async () => {
    h = await makeHarness();
    await writeSolidPhoto(join(h.photos, 'a.jpg'), RED);
    const link = join(h.dir, 'link-to-photos');
    await symlink(h.photos, link);
    const a = await h.library.addFolder(link);
    expect(a.path).toBe(h.photos);
    const b = await h.library.addFolder(h.photos);
    expect(b.id).toBe(a.id);
    expect(h.library.listFolders()).toHaveLength(1);
  });

  it('nested folders: a child of a folder returns the parent; a parent absorbs its children keeping photo ids', async () => {
    h = await makeHarness();
    const child = join(h.photos, '2023');
    await writeSolidPhoto(join(child, 'beach.jpg'), BLUE);
    await writeSolidPhoto(join(h.photos, 'top.jpg'), RED);

    const c = await h.library.addFolder(child);
    const before = h.row(join(child, 'beach.jpg'))!;
    h.addVector(before.id);

    const p = await h.library.addFolder(h.photos);
    expect(h.library.listFolders().map((f) => f.id)).toEqual([p.id]);
    const after = h.row(join(child, 'beach.jpg'))!;
    expect(after.id).toBe(before.id);
    expect(after.folder_id).toBe(p.id);
    expect(h.hasVector(before.id)).toBe(true);
    expect(p.photoCount).toBe(2);

    const again = await h.library.addFolder(child);
    expect(again.id).toBe(p.id);
    expect(again.id).not.toBe(c.id);
    expect(h.library.listFolders()).toHaveLength(1);
  });

  it('removeFolder deletes its rows and vectors but never the files', async () => {
    h = await makeHarness();
    const [a] = await writePhotos(h.photos, 2);
    const f = await h.library.addFolder(h.photos);
    const id = h.row(a!)!.id;
    h.addVector(id);
    h.library.removeFolder(f.id);
    expect(h.rows()).toEqual([]);
    expect(h.hasVector(id)).toBe(false);
    expect(canRead(a!)).toBe(true);
    expect(() => h.library.removeFolder(f.id)).toThrow(/No library folder/);
  });
});

describe('reconcile', () => {
  it('finds new, changed, deleted and renamed photos; a move keeps its id and vector, a content change drops the vector', async () => {
    h = await makeHarness();
    const paths = await writePhotos(h.photos, 6);
    await h.library.addFolder(h.photos);
    const ids = paths.map((p) => h.row(p)!.id);
    for (const id of ids) h.addVector(id);
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });

    // new
    const added = join(h.photos, 'new', 'fresh.jpg');
    await writeSolidPhoto(added, RED);
    // changed content (explicit mtime, so the test does not depend on clock resolution)
    await writeSolidPhoto(paths[1]!, GREEN, { width: 20, height: 10 });
    await utimes(paths[1]!, new Date(), new Date(Date.now() + 5000));
    // touched only: same bytes, new mtime → not re-encoded
    await utimes(paths[2]!, new Date(), new Date(Date.now() + 9000));
    // deleted
    await rm(paths[3]!);
    // renamed into a subfolder
    const movedTo = join(h.photos, 'sorted', 'renamed.jpg');
    await mkdir(join(h.photos, 'sorted'));
    await rename(paths[4]!, movedTo);

    const mark = h.changes.length;
    const changes = await h.library.reconcile();
    const addedRow = h.row(added)!;
    expect(changes).toEqual({ added: [addedRow.id], changed: [ids[1]], removed: [ids[3]], moved: [ids[4]] });
    expect(addedRow.status).toBe('pending');

    expect(h.row(paths[1]!)!.status).toBe('pending');
    expect(h.row(paths[1]!)!.hash).toBe(await hashFile(paths[1]!));
    expect(h.hasVector(ids[1]!)).toBe(false);

    expect(h.hasVector(ids[2]!)).toBe(true);
    expect(h.row(paths[2]!)!.mtime_ms).toBeGreaterThan(Date.now());

    expect(h.row(paths[3]!)).toBeUndefined();
    expect(h.hasVector(ids[3]!)).toBe(false);

    expect(h.row(paths[4]!)).toBeUndefined();
    expect(h.row(movedTo)!.id).toBe(ids[4]);
    expect(h.hasVector(ids[4]!)).toBe(true);
    // The same changes were reported as 'changed' events (one per committed chunk).
    for (const k of ['added', 'changed', 'removed', 'moved'] as const) expect(reported(h.changes.slice(mark), k)).toEqual(changes[k]);

    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
  });

  it('keeps an indexed photo indexed when it is renamed (no re-encode)', async () => {
    h = await makeHarness();
    const [a] = await writePhotos(h.photos, 1);
    await h.library.addFolder(h.photos);
    const id = h.row(a!)!.id;
    h.store.db.prepare("UPDATE photos SET status = 'indexed', width = 16 WHERE id = ?").run(id);
    const b = join(h.photos, 'Strand – été 🌊 2023.jpg');
    await rename(a!, b);
    const changes = await h.library.reconcile();
    expect(changes.moved).toEqual([id]);
    expect(h.row(b)).toMatchObject({ id, status: 'indexed', width: 16 });
  });

  it('handles unicode and spaces in folder and file names', async () => {
    h = await makeHarness();
    const dir = join(h.photos, 'Ferien 2023', 'Ōsaka 大阪');
    const p = join(dir, 'Café au lait – ☕.jpeg');
    await writeSolidPhoto(p, RED);
    const f = await h.library.addFolder(join(h.photos, 'Ferien 2023'));
    expect(f.photoCount).toBe(1);
    expect(h.row(p)?.status).toBe('pending');
    await rm(p);
    expect((await h.library.reconcile()).removed).toHaveLength(1);
  });

  it('moves a photo between two library folders by hash', async () => {
    h = await makeHarness();
    const a = join(h.dir, 'A');
    const b = join(h.dir, 'B');
    await writePhotos(a, 6, 'a');
    await writePhotos(b, 6, 'b');
    const fa = await h.library.addFolder(a);
    const fb = await h.library.addFolder(b);
    const id = h.row(join(a, 'a0.jpg'))!.id;
    await rename(join(a, 'a0.jpg'), join(b, 'from-a.jpg'));
    const changes = await h.library.reconcile();
    expect(changes.moved).toEqual([id]);
    expect(h.row(join(b, 'from-a.jpg'))).toMatchObject({ id, folder_id: fb.id });
    expect(fa.id).not.toBe(fb.id);
  });

  it('a copy is a new photo, not a move', async () => {
    h = await makeHarness();
    const [a] = await writePhotos(h.photos, 1);
    await h.library.addFolder(h.photos);
    await copyFile(a!, join(h.photos, 'copy.jpg'));
    const changes = await h.library.reconcile();
    expect(changes.added).toHaveLength(1);
    expect(changes.moved).toEqual([]);
    expect(h.rows()).toHaveLength(2);
  });

  it('inserts a large folder in batches', async () => {
    h = await makeHarness();
    const bytes = await readFile(await writePhotos(h.dir, 1, 'seed').then((p) => p[0]!));
    for (let d = 0; d < 12; d++) {
      await mkdir(join(h.photos, `d${d}`));
      await Promise.all(Array.from({ length: 100 }, (_, i) => writeFile(join(h.photos, `d${d}`, `${i}.jpg`), bytes)));
    }
    const f = await h.library.addFolder(h.photos);
    expect(f.photoCount).toBe(1200);
    expect(reported(h.changes, 'added')).toHaveLength(1200);
    expect(h.changes.length).toBeGreaterThanOrEqual(3); // 500-row chunks, each reported as it lands
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
  });
});

describe('unreadable things', () => {
  it('an unreadable subfolder is reported and the rest is scanned; its known rows are kept', async (ctx) => {
    h = await makeHarness();
    await writePhotos(h.photos, 2);
    const locked = join(h.photos, 'locked');
    const [inside] = await writePhotos(locked, 1, 'secret');
    const f = await h.library.addFolder(h.photos);
    expect(f.photoCount).toBe(3);
    await chmod(locked, 0o000);
    if (canRead(locked)) ctx.skip('running as root: chmod 000 does not block reads (the /proc/1/map_files test covers this path)');
    const changes = await h.library.reconcile();
    expect(changes.removed).toEqual([]);
    expect(h.row(inside!)).toBeDefined();
    expect(h.errors.some((e) => e.path === locked && /permission denied/.test(e.reason))).toBe(true);
    expect(h.library.failures()).toContainEqual({ id: 0, path: locked, reason: expect.stringMatching(/permission denied/) });
  });

  it('a folder that cannot be listed even by root (a link to /proc/1/map_files) is reported and its rows kept', async (ctx) => {
    if (process.platform !== 'linux' || canListDir('/proc/1/map_files')) ctx.skip('needs Linux and a /proc/1/map_files that refuses listing');
    h = await makeHarness();
    await writePhotos(h.photos, 2);
    const link = join(h.photos, 'no-entry');
    await symlink('/proc/1/map_files', link);
    const f = await h.library.addFolder(h.photos);
    expect(f.photoCount).toBe(2);
    expect(h.errors.some((e) => e.path === link && /cannot read folder/.test(e.reason))).toBe(true);
    expect(h.library.failures().filter((x) => x.id === 0).map((x) => x.path)).toEqual([link]);
    // A row remembered beneath it (from a time it was readable) is not deleted while unreadable.
    h.store.db
      .prepare("INSERT INTO photos (folder_id, path, size, mtime_ms, hash, updated_at) VALUES (?, ?, 1, 1, 'x', 0)")
      .run(f.id, join(link, 'old.jpg'));
    expect((await h.library.reconcile()).removed).toEqual([]);
    expect(h.row(join(link, 'old.jpg'))).toBeDefined();
  });

  it('an unreadable file gets a failed row with the reason; other photos are unaffected', async () => {
    h = await makeHarness();
    await writePhotos(h.photos, 2);
    let bad = join(h.photos, 'bad.jpg');
    await writeSolidPhoto(bad, RED);
    await chmod(bad, 0o000);
    if (canRead(bad)) {
      // Root reads anything: use a file whose read fails for everyone instead (EIO on Linux).
      await rm(bad);
      bad = join(h.photos, 'eio.jpg');
      await symlink('/proc/self/mem', bad);
    }
    await h.library.addFolder(h.photos);
    const row = h.row(bad)!;
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/cannot read file/);
    expect(row.hash).toBeNull();
    expect(h.rows().filter((r) => r.status === 'pending')).toHaveLength(2);
    expect(h.library.failures()).toEqual([{ id: row.id, path: bad, reason: row.error }]);
    expect(h.errors.map((e) => e.path)).toContain(bad);
    // Still unreadable next time: nothing reported as changed.
    expect((await h.library.reconcile()).changed).toEqual([]);
  });
});

function canListDir(path: string): boolean {
  try {
    readdirSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('symlinks', () => {
  it('follows links that point outside, skips links back inside, and terminates on loops', async () => {
    h = await makeHarness();
    await writePhotos(h.photos, 1, 'own');
    const outside = join(h.dir, 'elsewhere');
    await writePhotos(outside, 2, 'ext');
    await symlink(outside, join(h.photos, 'linked'));
    await symlink(outside, join(outside, 'loop')); // loop outside the folder
    await symlink(h.photos, join(h.photos, 'self')); // loop back into the folder
    await symlink(join(h.photos, 'own0.jpg'), join(h.photos, 'alias.jpg')); // link to a photo already there
    await symlink(join(outside, 'ext0.jpg'), join(h.photos, 'ext-alias.jpg')); // link to a photo outside
    await symlink(join(h.dir, 'missing.jpg'), join(h.photos, 'dangling.jpg'));

    const f = await h.library.addFolder(h.photos);
    expect(h.rows().map((r) => r.path)).toEqual([
      join(h.photos, 'ext-alias.jpg'),
      join(h.photos, 'linked', 'ext0.jpg'),
      join(h.photos, 'linked', 'ext1.jpg'),
      join(h.photos, 'own0.jpg'),
    ]);
    expect(f.photoCount).toBe(4);
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
  });
});

describe('offline folders and held deletions', () => {
  it('a missing root marks the folder offline and deletes nothing; it comes back on the next reconcile', async () => {
    h = await makeHarness();
    await writePhotos(h.photos, 4);
    const f = await h.library.addFolder(h.photos);
    const before = h.rows();
    const away = join(h.dir, 'unplugged');
    await rename(h.photos, away);

    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
    expect(h.library.listFolders()[0]).toMatchObject({ id: f.id, state: 'offline', photoCount: 4, heldDeletions: 0 });
    expect(h.rows()).toEqual(before);

    await rename(away, h.photos);
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'idle', photoCount: 4 });
  });

  it('when more than 20% vanish at once, deletions are held until confirmed', async () => {
    h = await makeHarness();
    const paths = await writePhotos(h.photos, 10);
    const f = await h.library.addFolder(h.photos);
    const ids = paths.map((p) => h.row(p)!.id);

    // 1 of 10 (10%): an ordinary deletion.
    await rm(paths[0]!);
    expect((await h.library.reconcile()).removed).toEqual([ids[0]]);

    // 3 of 9 (33%): held.
    for (const p of paths.slice(1, 4)) await rm(p);
    const changes = await h.library.reconcile();
    expect(changes.removed).toEqual([]);
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 3, photoCount: 9 });
    expect(h.rows().filter((r) => r.missing_since !== null).map((r) => r.id)).toEqual(ids.slice(1, 4));

    // Still held on the next reconcile; a further single deletion joins the hold.
    await rm(paths[4]!);
    expect((await h.library.reconcile()).removed).toEqual([]);
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 4 });

    const confirmed = h.library.confirmDeletions(f.id);
    expect(confirmed.removed.sort()).toEqual(ids.slice(1, 5).sort());
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'idle', heldDeletions: 0, photoCount: 5 });
    expect(reported(h.changes, 'removed')).toEqual(expect.arrayContaining(ids.slice(1, 5)));
  });

  it('a held folder whose files come back is released, with ids unchanged', async () => {
    h = await makeHarness();
    const paths = await writePhotos(h.photos, 5);
    await h.library.addFolder(h.photos);
    const before = h.rows();
    const stash = join(h.dir, 'stash');
    await mkdir(stash);
    for (const p of paths.slice(0, 3)) await rename(p, join(stash, p.split('/').pop()!));
    await h.library.reconcile();
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 3 });

    for (const p of paths.slice(0, 3)) await rename(join(stash, p.split('/').pop()!), p);
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'idle', heldDeletions: 0, photoCount: 5 });
    expect(h.rows().map((r) => [r.id, r.path, r.missing_since])).toEqual(before.map((r) => [r.id, r.path, null]));
  });

  it('a held photo that reappears elsewhere is moved, not re-added', async () => {
    h = await makeHarness();
    const paths = await writePhotos(h.photos, 5);
    await h.library.addFolder(h.photos);
    const id = h.row(paths[0]!)!.id;
    const stash = join(h.dir, 'stash');
    await mkdir(stash);
    for (const p of paths.slice(0, 3)) await rename(p, join(stash, p.split('/').pop()!));
    await h.library.reconcile();
    await rename(join(stash, 'p0.jpg'), join(h.photos, 'back.jpg'));
    const changes = await h.library.reconcile();
    expect(changes.moved).toEqual([id]);
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 2 });
  });
});

describe('restart', () => {
  it('a new Library on the same database resets a stale scanning state and finishes the job', async () => {
    h = await makeHarness();
    const paths = await writePhotos(h.photos, 3);
    const f = await h.library.addFolder(h.photos);
    // Simulate a crash mid-scan: state left 'scanning', one row never written.
    h.store.db.prepare("UPDATE folders SET state = 'scanning' WHERE id = ?").run(f.id);
    h.store.db.prepare('DELETE FROM photos WHERE path = ?').run(paths[2]);
    const again = new Library({ store: h.store });
    expect(again.listFolders()[0]!.state).toBe('idle');
    const changes = await again.reconcile();
    expect(changes.added).toHaveLength(1);
    expect(again.listFolders()[0]).toMatchObject({ state: 'idle', photoCount: 3 });
  });
});
