/**
 * Issue 15 §1 — scan and reconcile a tree of 200,000 photo files (hard links of 200 small JPEGs, so
 * the tree is cheap to make; each link is its own path, so its own photo: copies are not moves).
 * Reports files/s for the first scan (walk + stat + content hash + rows), a reconcile with nothing
 * changed, and a reconcile after 1% of the files were deleted. Prints figures; never asserts.
 *
 *   npm run bench -- --scale          # includes this at 200k
 *   npx tsx test/bench/scan.bench.ts 20000
 */
import { link, mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Library } from '../../main/services/library/index.ts';
import { openStore } from '../../main/services/store/index.ts';
import { writeSolidPhoto } from '../fixtures/photos.ts';
import { heading, info } from './util.ts';

const ORIGINALS = 200;
const PER_FOLDER = 1000;

export async function runScanBench(n = 200_000): Promise<void> {
  heading(`scan: ${n.toLocaleString('en')} files (hard links), first scan and reconcile`);
  const root = await mkdtemp(join(tmpdir(), 'leanlens-bench-scan-'));
  const store = openStore(join(root, 'data', 'library.db'));
  try {
    const originals = join(root, 'originals');
    await mkdir(originals);
    const sources: string[] = [];
    for (let i = 0; i < ORIGINALS; i++) {
      const p = join(originals, `o${i}.jpg`);
      await writeSolidPhoto(p, [i % 256, (i * 7) % 256, (i * 13) % 256], { width: 16, height: 12 });
      sources.push(p);
    }
    const tree = join(root, 'Photos');
    let t = performance.now();
    for (let f = 0; f < n / PER_FOLDER; f++) {
      const dir = join(tree, `${2000 + (f % 20)}`, `event ${f}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: PER_FOLDER }, (_, i) => link(sources[(f * PER_FOLDER + i) % ORIGINALS]!, join(dir, `IMG_${i}.jpg`))));
    }
    info('tree made', `${((performance.now() - t) / 1000).toFixed(0)} s`, `${n / PER_FOLDER} folders of ${PER_FOLDER}`);

    const library = new Library({ store, ignore: [join(root, 'data')] });
    t = performance.now();
    const folder = await library.addFolder(tree);
    let s = (performance.now() - t) / 1000;
    info('first scan (walk, stat, hash, insert)', `${Math.round(n / s)} files/s`, `${folder.photoCount} photos in ${s.toFixed(0)} s`);

    t = performance.now();
    const same = await library.reconcile();
    s = (performance.now() - t) / 1000;
    info('reconcile, nothing changed', `${Math.round(n / s)} files/s`, `${s.toFixed(1)} s; ${same.added.length + same.changed.length + same.removed.length + same.moved.length} changes found`);

    const gone = Array.from({ length: n / 100 }, (_, k) => k * 100);
    for (const k of gone) await unlink(join(tree, `${2000 + (Math.floor(k / PER_FOLDER) % 20)}`, `event ${Math.floor(k / PER_FOLDER)}`, `IMG_${k % PER_FOLDER}.jpg`));
    t = performance.now();
    const after = await library.reconcile();
    s = (performance.now() - t) / 1000;
    const left = store.db.prepare('SELECT COUNT(*) FROM photos').pluck().get() as number;
    info(
      'reconcile after deleting 1% of the copies',
      `${Math.round(n / s)} files/s`,
      `${after.removed.length} removed, ${after.moved.length} taken for moves; ${left} rows left (expected ${n - gone.length})`,
    );
    await library.unwatch();
  } finally {
    store.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runScanBench(Number(process.argv[2]) || undefined);
