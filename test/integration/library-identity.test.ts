/**
 * Issue 15 §5.1, §5.6, §5.7 on the library with real files and a real SQLite database: an edit
 * that keeps size and mtime is seen (ctime/inode, migration 009); swapped names re-encode
 * nothing; a hold does not swallow later ordinary deletions; held photos leave search; a folder
 * whose files were put back is restored on demand; a symbolic link loop is reported once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unsearchablePhotoIds } from '../../main/services/library/index.ts';
import { makeHarness, writePhotos, type Harness } from './library-helpers.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});


describe('file identity', () => {
  it('an edit that keeps the size and the modification time is re-read and re-encoded', async () => {
    h = await makeHarness();
    const [photo] = await writePhotos(h.photos, 1);
    const SECONDS = 1_700_000_000; // a whole second: set back exactly below
    await utimes(photo!, SECONDS, SECONDS);
    await h.library.addFolder(h.photos);
    const row = h.row(photo!)!;
    h.addVector(row.id);
    const before = await stat(photo!);
    // Same length, other bytes (the last byte before the JPEG end marker), mtime set back.
    const bytes = await readFile(photo!);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    await new Promise((r) => setTimeout(r, 20)); // a ctime of its own, even on a coarse clock
    await writeFile(photo!, bytes);
    await utimes(photo!, SECONDS, SECONDS);
    const after = await stat(photo!);
    expect([after.size, Math.trunc(after.mtimeMs)]).toEqual([before.size, Math.trunc(before.mtimeMs)]);

    const changes = await h.library.reconcile();
    expect(changes.changed).toEqual([row.id]);
    expect(h.row(photo!)).toMatchObject({ status: 'pending', ctime_ms: Math.trunc(after.ctimeMs), inode: after.ino });
    expect(h.hasVector(row.id)).toBe(false);
  });

  it('a touched-only file (ctime changed, same bytes) is re-read but keeps its vector', async () => {
    h = await makeHarness();
    const [photo] = await writePhotos(h.photos, 1);
    await h.library.addFolder(h.photos);
    const row = h.row(photo!)!;
    h.addVector(row.id);
    await new Promise((r) => setTimeout(r, 20));
    const st = await stat(photo!);
    await utimes(photo!, st.atime, st.mtime); // changes only the ctime
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
    expect(h.hasVector(row.id)).toBe(true);
    expect(h.row(photo!)!.ctime_ms).toBe(Math.trunc((await stat(photo!)).ctimeMs));
  });

  it('swapping two files\' names moves each row (and vector) to the other name: nothing is re-encoded', async () => {
    h = await makeHarness();
    const [a, b, c] = await writePhotos(h.photos, 3);
    await h.library.addFolder(h.photos);
    const idA = h.row(a!)!.id;
    const idB = h.row(b!)!.id;
    const idC = h.row(c!)!.id;
    for (const id of [idA, idB, idC]) h.addVector(id);
    const tmp = join(h.dir, 'swap.tmp');
    await rename(a!, tmp);
    await rename(b!, a!);
    await rename(tmp, b!);

    const changes = await h.library.reconcile();
    expect(changes.changed).toEqual([]);
    expect(changes.added).toEqual([]);
    expect(changes.removed).toEqual([]);
    expect(changes.moved.sort()).toEqual([idA, idB].sort());
    expect(h.row(a!)!.id).toBe(idB);
    expect(h.row(b!)!.id).toBe(idA);
    expect(h.row(c!)!.id).toBe(idC);
    for (const id of [idA, idB, idC]) expect(h.hasVector(id)).toBe(true);
    // Settled: nothing more to do.
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
  });
});

describe('name swaps in a big scan', () => {
  it('two names swapped with 600 new files between them (other reconciliation chunks) are moves, not re-encodes', async () => {
    h = await makeHarness();
    const [first, last] = await writePhotos(h.photos, 2, 'x');
    const a = join(h.photos, 'a.jpg');
    const z = join(h.photos, 'z.jpg');
    await rename(first!, a);
    await rename(last!, z);
    await h.library.addFolder(h.photos);
    const idA = h.row(a)!.id;
    const idZ = h.row(z)!.id;
    h.addVector(idA);
    h.addVector(idZ);
    // 600 new files sort between a.jpg and z.jpg: the scan hashes a.jpg in its first chunk of
    // 500 and z.jpg in its second.
    const filler = await readFile((await writePhotos(h.dir, 1, 'filler'))[0]!);
    for (let i = 0; i < 600; i++) await writeFile(join(h.photos, `m${String(i).padStart(3, '0')}.jpg`), filler);
    const tmp = join(h.dir, 'swap.tmp');
    await rename(a, tmp);
    await rename(z, a);
    await rename(tmp, z);

    const changes = await h.library.reconcile();
    expect(changes.changed).toEqual([]);
    expect(changes.removed).toEqual([]);
    expect(changes.added).toHaveLength(600);
    expect(changes.moved.sort()).toEqual([idA, idZ].sort());
    expect(h.row(a)!.id).toBe(idZ);
    expect(h.row(z)!.id).toBe(idA);
    expect(h.hasVector(idA) && h.hasVector(idZ)).toBe(true);
    expect(await h.library.reconcile()).toEqual({ added: [], changed: [], removed: [], moved: [] });
  });
});

describe('name rotations', () => {
  it('three names rotated (each file takes the next name) move all three rows; a copy changed beside them is encoded again', async () => {
    h = await makeHarness();
    const paths = await writePhotos(h.photos, 4);
    await h.library.addFolder(h.photos);
    const ids = paths.map((p) => h.row(p)!.id);
    for (const id of ids) h.addVector(id);
    const [r0, r1, r2, other] = paths as [string, string, string, string];
    const tmp = join(h.dir, 'rotate.tmp');
    await rename(r2, tmp);
    await rename(r1, r2);
    await rename(r0, r1);
    await rename(tmp, r0);
    // The fourth file now holds r1's old bytes too (a copy): not part of the rotation.
    await writeFile(other, await readFile(r2));

    const changes = await h.library.reconcile();
    expect(changes.moved.sort()).toEqual(ids.slice(0, 3).sort());
    expect(changes.changed).toEqual([ids[3]]);
    expect([h.row(r1)!.id, h.row(r2)!.id, h.row(r0)!.id]).toEqual(ids.slice(0, 3));
    expect(h.hasVector(ids[3]!)).toBe(false);
  });
});

describe('held deletions', () => {
  it('a later ordinary deletion in a folder held long ago is applied, not added to the hold', async () => {
    h = await makeHarness({ holdJoinMs: 50 });
    const paths = await writePhotos(h.photos, 10);
    await h.library.addFolder(h.photos);
    const ids = paths.map((p) => h.row(p)!.id);
    for (const p of paths.slice(0, 3)) await rm(p);
    await h.library.reconcile();
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 3 });
    await new Promise((r) => setTimeout(r, 100));

    await rm(paths[5]!);
    expect((await h.library.reconcile()).removed).toEqual([ids[5]]);
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 3, photoCount: 9 });
  });

  it('held photos are not offered by search, and restoring a folder whose files came back releases them', async () => {
    h = await makeHarness();
    const paths = await writePhotos(h.photos, 5);
    const f = await h.library.addFolder(h.photos);
    const ids = paths.map((p) => h.row(p)!.id);
    h.store.db.prepare("UPDATE photos SET status = 'indexed'").run(); // as if encoded: searchable
    expect(unsearchablePhotoIds(h.store).size).toBe(0);
    const stash = join(h.dir, 'stash');
    await mkdir(stash);
    for (const p of paths.slice(0, 3)) await rename(p, join(stash, p.split('/').pop()!));
    await h.library.reconcile();
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 3 });
    expect([...unsearchablePhotoIds(h.store)].filter((id) => ids.slice(0, 3).includes(id)).sort()).toEqual(ids.slice(0, 3).sort());

    // Two of three put back.
    for (const p of paths.slice(0, 2)) await rename(join(stash, p.split('/').pop()!), p);
    await h.library.restoreDeletions(f.id);
    expect(h.library.listFolders()[0]).toMatchObject({ state: 'held', heldDeletions: 1, photoCount: 5 });
    expect(h.row(paths[0]!)).toMatchObject({ id: ids[0], missing_since: null });
  });
});

describe('symbolic link loops', () => {
  it('are reported once per folder scan', async () => {
    h = await makeHarness();
    await writePhotos(h.photos, 1);
    const outside = join(h.dir, 'elsewhere');
    await writePhotos(join(outside, 'a', 'b'), 1, 'ext');
    await symlink(outside, join(h.photos, 'linked'));
    await symlink(outside, join(outside, 'a', 'up')); // elsewhere/a/up -> elsewhere
    await symlink(outside, join(outside, 'a', 'b', 'up2')); // a second way round
    await h.library.addFolder(h.photos);
    const loops = h.errors.filter((e) => /symbolic link loop/.test(e.reason));
    expect(loops).toHaveLength(1);
    expect(h.library.failures().filter((e) => /symbolic link loop/.test(e.reason))).toHaveLength(1);
    expect(h.rows()).toHaveLength(2);
  });
});
