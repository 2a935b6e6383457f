/**
 * Text in photos (OCR): on the generated set (test/fixtures/text-photos.ts: 24 signs, 8
 * screenshots, 8 photos without text), word recall, photo recall@1 for one- and two-word queries,
 * seconds per photo with and without text (one engine worker, one photo at a time), and the time
 * for a library pass with one worker per core.
 *
 * The pass is timed on the set itself (40 photos) by default and extrapolated to 1,000 photos —
 * said so in the output. LEANLENS_BENCH_OCR_PHOTOS=1000 measures 1,000 for real (copies of the set,
 * each read as new content). Alone: `npx tsx test/bench/text.bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseTextQuery, wordsOf } from '../../main/core/text-query.ts';
import { openStore } from '../../main/services/store/index.ts';
import { findText, loadReader, saveReading, TextEngine } from '../../main/services/text/index.ts';
import { makeTextPhotos, type TextPhoto } from '../fixtures/text-photos.ts';
import { heading, info, mean, report } from './util.ts';

export async function runTextBench(): Promise<void> {
  heading('text in photos (OCR) — runTextBench');
  const dir = mkdtempSync(join(tmpdir(), 'leanlens-bench-text-'));
  try {
    const set = await makeTextPhotos(join(dir, 'set'));
    const { readPhoto } = await loadReader();

    // Seconds per photo, one at a time on one worker (the engine started beforehand).
    const one = new TextEngine({ workers: 1 });
    await readPhoto(one, set.find((p) => p.kind === 'screenshot')!.file);
    const readings = new Map<TextPhoto, Awaited<ReturnType<typeof readPhoto>>>();
    for (const p of set) readings.set(p, await readPhoto(one, p.file));
    await one.close();
    const msOf = (kind: 'text' | 'none') => set.filter((p) => (kind === 'none') === (p.kind === 'none')).map((p) => readings.get(p)!.ms);
    const withText = mean(msOf('text'));
    const without = mean(msOf('none'));
    info('OCR per photo with text (1 worker)', `${(withText / 1000).toFixed(2)} s`, `${msOf('text').length} signs and screenshots, 960×720 and 1080×720`);
    report('OCR per photo without text', `${(without / 1000).toFixed(3)} s (${((without / withText) * 100).toFixed(1)}% of one with text)`, '≤ 10% of one with text', without <= 0.1 * withText, 'the first look decodes each photo (JPEG shrinks on load only by powers of 2) and the set\'s photos without text are larger than its signs');
    const skipped = set.filter((p) => p.kind === 'none' && readings.get(p)!.skipped).length;
    info('photos without text skipped by the first look', `${skipped} of ${set.filter((p) => p.kind === 'none').length}`);
    const falseSkips = set.filter((p) => p.kind !== 'none' && readings.get(p)!.skipped).length;
    report('photos with text wrongly skipped by the first look', String(falseSkips), '0', falseSkips === 0, 'the stroke test missed low-contrast or tiny text');

    // Word recall: the drawn words found among the words read (normalised, exact).
    for (const minLength of [1, 4]) {
      let found = 0;
      let total = 0;
      for (const p of set.filter((x) => x.kind !== 'none')) {
        const read = new Set(wordsOf(readings.get(p)!.text));
        for (const w of p.words.flatMap(wordsOf).filter((x) => x.length >= minLength)) {
          total++;
          if (read.has(w)) found++;
        }
      }
      info(`word recall, words of ≥ ${minLength} characters`, `${(found / total).toFixed(3)} (${found} / ${total})`);
    }

    // Photo recall@1: each photo's text in an FTS5 index; a query's best match must be that photo.
    const store = openStore(join(dir, 'bench.db'));
    for (const [p, r] of readings) saveReading(store, p.file, r);
    const owners = new Map<string, number>();
    for (const p of set) for (const w of new Set(p.words.flatMap(wordsOf))) owners.set(w, (owners.get(w) ?? 0) + 1);
    const unique = (p: TextPhoto) => [...new Set(p.words.flatMap(wordsOf))].filter((w) => w.length >= 4 && owners.get(w) === 1 && !/^\d+$/.test(w));
    const top1 = (query: string, file: string) => {
      const hits = [...findText(store, parseTextQuery(query))].sort((a, b) => b[1].score - a[1].score);
      return hits.length > 0 && hits[0]![0] === file && (hits.length === 1 || hits[1]![1].score < hits[0]![1].score);
    };
    for (const kind of ['sign', 'screenshot'] as const) {
      const photos = set.filter((p) => p.kind === kind);
      const single = photos.flatMap((p) => unique(p).map((w) => top1(w, p.file)));
      const multi = photos.flatMap((p) => {
        const words = [...new Set(p.words.flatMap(wordsOf))].filter((w) => w.length >= 4);
        return words.length >= 2 ? [top1(`${words[0]} ${words[1]}`, p.file)] : [];
      });
      const r1 = single.filter(Boolean).length / single.length;
      report(`photo recall@1, one word of ≥ 4 letters, ${kind}s`, `${r1.toFixed(3)} (${single.length} queries)`, '≥ 0.9', r1 >= 0.9, 'OCR missed words on these photos');
      info(`photo recall@1, two words, ${kind}s`, `${(multi.filter(Boolean).length / multi.length).toFixed(3)} (${multi.length} queries)`);
    }
    const typo = set.filter((p) => p.kind === 'sign').map((p) => top1(misspell(unique(p)[0]!), p.file));
    info('photo recall@1, one misspelt word (one letter changed), signs', `${(typo.filter(Boolean).length / typo.length).toFixed(3)} (${typo.length} queries)`);
    store.close();

    // A library pass: one worker per core, photos read concurrently, as `leanlens index` does.
    const wanted = Number(process.env.LEANLENS_BENCH_OCR_PHOTOS ?? set.length);
    const workers = availableParallelism();
    const pool = new TextEngine({ workers });
    const files = Array.from({ length: wanted }, (_, i) => set[i % set.length]!.file);
    const started = performance.now();
    const queue = [...files];
    await Promise.all(Array.from({ length: workers }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) await readPhoto(pool, f);
    }));
    const seconds = (performance.now() - started) / 1000;
    await pool.close();
    const textShare = set.filter((p) => p.kind !== 'none').length / set.length;
    const per1000 = (seconds / wanted) * 1000;
    info(
      `OCR pass, ${wanted} photos, ${workers} workers`,
      `${seconds.toFixed(1)} s (${(wanted / seconds).toFixed(2)} photos/s)`,
      `${Math.round(textShare * 100)}% of them with text`,
    );
    info(
      `OCR pass for 1,000 photos on ${workers} cores`,
      `${(per1000 / 60).toFixed(1)} min${wanted === 1000 ? '' : ` (extrapolated from ${wanted}; LEANLENS_BENCH_OCR_PHOTOS=1000 measures it)`}`,
      `same mix, ${Math.round(textShare * 100)}% with text`,
    );
    // A holiday library: 10% with text. Per-photo costs from above, spread over the workers.
    const holiday = ((0.1 * withText + 0.9 * without) * 1000) / 1000 / Math.min(workers, 2);
    info('OCR pass for 1,000 holiday photos (10% with text), estimated', `${(holiday / 60).toFixed(1)} min`, 'from the per-photo costs above, not measured');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One letter replaced in the middle: an OCR-like or typing slip. */
function misspell(word: string): string {
  const i = Math.floor(word.length / 2);
  return word.slice(0, i) + (word[i] === 'x' ? 'y' : 'x') + word.slice(i + 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runTextBench();
