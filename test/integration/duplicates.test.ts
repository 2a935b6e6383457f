/**
 * Near-duplicates through the real app (SQLite, sharp, hnswlib, ONNX Runtime with color-oracle):
 * a temporary library of made-up scenes, copies of two of them of every kind, and distinct scenes
 * in the same colours (hard negatives). The copies group with their original and nothing else;
 * the similarity control, the exports, the stored fingerprints (made once, redone after an edit), an
 * unreadable file and the CLI are checked. Photos are generated into a temp folder; ../shared is
 * never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { createApp, type App } from '../../main/app/index.ts';
import { runCli, type CliIo } from '../../main/cli/main.ts';
import { parseCsv } from '../../main/core/csv.ts';
import { parseArgs, type DuplicatesProgress } from '../../main/core/contract.ts';
import { COPY_KINDS, writeNearCopies, writeScenePhoto } from '../fixtures/near-copies.ts';

let dir: string;
let photos: string;
let app: App;

const names = (paths: string[]) => paths.map((p) => basename(p)).sort();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leanlens-dups-'));
  photos = join(dir, 'photos');
  // Scenes 1–3 share one palette (same kind of scene), 4–6 another; 1 and 4 get copies.
  for (let s = 1; s <= 6; s++) {
    const path = await writeScenePhoto(join(photos, `scene-${s}.jpg`), s, { palette: s <= 3 ? 100 : 200 });
    if (s === 1 || s === 4) await writeNearCopies(path, photos, s);
  }
  app = await createApp({ dataDir: join(dir, 'data') });
  await app['folders.add']({ path: photos });
  await app.sync();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const expectedGroups = () => [
  names(['scene-1.jpg', ...COPY_KINDS.map((k) => `scene-1.${k}.${k === 'png' ? 'png' : 'jpg'}`)]),
  names(['scene-4.jpg', ...COPY_KINDS.map((k) => `scene-4.${k}.${k === 'png' ? 'png' : 'jpg'}`)]),
];

describe('duplicates', () => {
  it('groups each photo with its resized, recompressed, cropped, brightened and PNG copies, and nothing else', async () => {
    const progress: DuplicatesProgress[] = [];
    const off = app.on('duplicates.progress', (p) => progress.push(p));
    const result = await app['duplicates.find']({});
    off();
    expect(result.photos).toBe(16);
    expect(result.similarity).toBe(0.9);
    expect(result.unreadable).toEqual([]);
    expect(result.groups.map((g) => names(g.photos.map((m) => m.photo.path))).sort()).toEqual(expectedGroups());
    // Largest picture first, with size, dimensions and date for the view.
    for (const g of result.groups) {
      const px = g.photos.map((m) => m.photo.width! * m.photo.height!);
      expect(px).toEqual([...px].sort((a, b) => b - a));
      expect(g.photos.every((m) => m.photo.size > 0 && m.photo.takenAt !== null && m.similarity >= 0.9)).toBe(true);
    }
    // Progress went through the stages, with counts.
    expect(progress.find((p) => p.stage === 'fingerprints')?.total).toBe(16);
    expect(progress.at(-1)?.stage).toBe('done');
  });

  it('the similarity control regroups without comparing again', async () => {
    const strict = await app['duplicates.find']({ similarity: 0.999 });
    const loose = await app['duplicates.find']({ similarity: 0.9 });
    const count = (r: typeof strict) => r.groups.reduce((n, g) => n + g.photos.length, 0);
    expect(count(strict)).toBeLessThan(count(loose));
    expect(strict.pairsCompared).toBe(loose.pairsCompared);
    // Every transport validates the control's range before the call runs.
    expect(() => parseArgs('duplicates.find', { similarity: 0.2 })).toThrow(/similarity/);
    expect(() => parseArgs('duplicates.export', { format: 'xml' })).toThrow(/format/);
  });

  it('exports the groups as CSV and JSON with path, size, dimensions and date', async () => {
    const rows = parseCsv(await app['duplicates.export']({ format: 'csv' }));
    expect(rows[0]).toEqual(['group', 'position', 'path', 'size_bytes', 'width', 'height', 'taken_at', 'format', 'similarity']);
    expect(rows.length - 1).toBe(12);
    expect(new Set(rows.slice(1).map((r) => r[0]))).toEqual(new Set(['1', '2']));
    const json = JSON.parse(await app['duplicates.export']({ format: 'json' })) as { groups: { path: string; width: number }[][] };
    expect(json.groups.map((g) => names(g.map((p) => p.path))).sort()).toEqual(expectedGroups());
  });

  it('keeps fingerprints in SQLite and makes a new one only for an edited photo', async () => {
    const db = new Database(join(dir, 'data', 'library.db'), { readonly: true });
    const madeAt = () => new Map(db.prepare<[], { path: string; made_at: number }>('SELECT p.path, f.made_at FROM duplicate_fingerprints f JOIN photos p ON p.id = f.photo_id').all().map((r) => [basename(r.path), r.made_at]));
    const before = madeAt();
    expect(before.size).toBe(16);
    // Scene 2 becomes a copy of scene 5: after re-indexing it joins scene 5's group.
    await writeScenePhoto(join(photos, 'scene-2.jpg'), 5, { palette: 200, width: 400, height: 300 });
    await new Promise((r) => setTimeout(r, 20));
    await app.sync();
    const result = await app['duplicates.find']({});
    const after = madeAt();
    db.close();
    expect(after.get('scene-2.jpg')).toBeGreaterThan(before.get('scene-2.jpg')!);
    expect(after.get('scene-1.jpg')).toBe(before.get('scene-1.jpg'));
    expect(result.groups.map((g) => names(g.photos.map((m) => m.photo.path))).sort()).toEqual([...expectedGroups(), ['scene-2.jpg', 'scene-5.jpg']].sort());
  });

  it('lists a photo that cannot be read with its reason, and still groups the others', async () => {
    // The file is damaged after indexing: its fingerprint must be made again, and fails.
    const victim = join(photos, 'scene-6.jpg');
    await writeFile(victim, Buffer.from('not a jpeg at all'));
    await app.sync(); // re-indexing marks it failed, so it leaves the comparison…
    const r1 = await app['duplicates.find']({});
    expect(r1.groups.flatMap((g) => g.photos.map((m) => basename(m.photo.path)))).not.toContain('scene-6.jpg');
    // …while a file that vanished behind the library's back is reported, not fatal.
    await unlink(join(photos, 'scene-4.png.png'));
    const db = new Database(join(dir, 'data', 'library.db'));
    db.prepare("DELETE FROM duplicate_fingerprints WHERE photo_id = (SELECT id FROM photos WHERE path LIKE '%scene-4.png.png')").run();
    // As a re-index would: its row is the latest change, so the stored comparison is out of date.
    db.prepare("UPDATE photos SET updated_at = (SELECT max(updated_at) FROM photos) + 1 WHERE path LIKE '%scene-4.png.png'").run();
    db.close();
    const r2 = await app['duplicates.find']({});
    expect(r2.unreadable.map((u) => basename(u.path))).toEqual(['scene-4.png.png']);
    expect(r2.unreadable[0]!.reason).toMatch(/missing|exist|no such|input file/i);
    expect(r2.groups.find((g) => g.photos.some((m) => basename(m.photo.path) === 'scene-4.jpg'))?.photos).toHaveLength(5);
    await expect(stat(join(photos, 'scene-4.jpg'))).resolves.toBeTruthy();
  });

  it('`leanlens duplicates --json` prints the groups; a bad --similarity is a usage error', async () => {
    await app.close();
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false };
    const code = await runCli(['--data', join(dir, 'data'), 'duplicates', '--json', '--similarity', '0.95'], io);
    expect(err.join('\n')).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(out.join('\n')) as { similarity: number; groups: { path: string }[][] };
    expect(json.similarity).toBe(0.95);
    expect(json.groups.length).toBeGreaterThanOrEqual(2);
    const bad = await runCli(['--data', join(dir, 'data'), 'duplicates', '--similarity', '2'], { ...io, err: (t) => err.push(t) });
    expect(bad).toBe(2);
    expect(err.join('\n')).toMatch(/--similarity must be a number between 0.5 and 1/);
    app = await createApp({ dataDir: join(dir, 'data') });
  });
});
