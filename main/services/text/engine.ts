/**
 * The OCR engine: Tesseract (tesseract.js, WebAssembly, no native build) in a small pool of
 * worker threads, so recognition never runs on the main thread. Language data comes from npm
 * packages (`@tesseract.js-data/<lang>`) read from disk: nothing is ever downloaded, and a
 * missing language fails at once with what to install.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AppError } from '../../core/contract.ts';
import { boxBack, estimateSkew, MAX_SKEW_DEGREES, MIN_SKEW_DEGREES, turn } from './deskew.ts';

const require = createRequire(import.meta.url);

/** One recognised word: its text, Tesseract's confidence (0–100) and its box in pixels of the image read. */
export interface OcrWord {
  text: string;
  confidence: number;
  box: [x0: number, y0: number, x1: number, y1: number];
  /** Index of the line the word is on, to rebuild the text line by line. */
  line: number;
}

export interface OcrResult {
  words: OcrWord[];
}

/** The LSTM "best, integer" models: tesseract.js's own default, and the most accurate small ones. */
const DATA_VARIANT = '4.0.0_best_int';

/** The folder holding `<lang>.traineddata.gz`, from the installed npm package; a clear error when absent. */
export function languageDataDir(lang: string): string {
  if (!/^[a-z_]{3,12}$/.test(lang)) throw new AppError('invalid-argument', `"${lang}" is not a Tesseract language code (e.g. eng, fra, deu)`);
  let packageJson: string;
  try {
    packageJson = require.resolve(`@tesseract.js-data/${lang}/package.json`);
  } catch {
    throw new AppError('unsupported', `the OCR language data for "${lang}" is not installed: run \`npm install @tesseract.js-data/${lang}\``);
  }
  const dir = unpacked(join(dirname(packageJson), DATA_VARIANT));
  if (!existsSync(join(dir, `${lang}.traineddata.gz`))) {
    throw new AppError('unsupported', `the OCR language data for "${lang}" is incomplete: ${join(dir, `${lang}.traineddata.gz`)} is missing; reinstall @tesseract.js-data/${lang}`);
  }
  return dir;
}

/**
 * In the packaged app node_modules lies inside app.asar, which a worker thread and the
 * WebAssembly engine's file reads cannot open; electron-builder.yml unpacks tesseract.js, its
 * dependencies and the language data beside it into app.asar.unpacked, and this points there.
 * Outside a package the path is returned as it is.
 */
export function unpacked(path: string): string {
  return path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}

/** The worker thread's script, from the unpacked copy in a packaged app. */
function workerScript(): string {
  return unpacked(require.resolve('tesseract.js/src/worker-script/node/index.js'));
}

export interface TextEngineOptions {
  /** Worker threads reading at once. */
  workers: number;
  languages?: string[];
  /** A photo taking longer than this fails (its worker is replaced), so one pathological image cannot stall the pass. */
  timeoutMs?: number;
}

type TesseractWorker = Awaited<ReturnType<typeof import('tesseract.js').createWorker>>;

interface Slot {
  worker: Promise<TesseractWorker>;
  busy: boolean;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

export class TextEngine {
  readonly languages: string[];
  /** Recorded with every photo read, so a change of engine or languages can be told apart. */
  readonly name: string;
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly o: TextEngineOptions) {
    this.languages = o.languages?.length ? o.languages : ['eng'];
    // tesseract.js reads every language from one langPath, and each npm data package has its own folder.
    if (this.languages.length > 1) throw new AppError('unsupported', 'OCR reads one language at a time for now');
    // Fail now, not in a worker thread: every language's data must be on disk.
    for (const lang of this.languages) languageDataDir(lang);
    this.name = `tesseract.js-7/${this.languages.join('+')}`;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get size(): number {
    return Math.max(1, this.o.workers);
  }

  /**
   * Reads the words in a grey image, twice: as it is and negated. Tesseract looks for dark text on
   * a light ground; light lettering on a dark sign is only found in the negative. Where both
   * passes read the same place differently, both confident readings are kept.
   */
  async read(image: GreyPixels): Promise<OcrResult> {
    // A clearly tilted photo (a sign shot at an angle) is read straightened: see deskew.ts.
    const tilt = estimateSkew(image);
    const turned = Math.abs(tilt) >= MIN_SKEW_DEGREES && Math.abs(tilt) <= MAX_SKEW_DEGREES ? turn(image, tilt) : null;
    const target = turned?.image ?? image;
    const first = await this.recognise(toPgm(target, false));
    const second = await this.recognise(toPgm(target, true));
    const words = merge(first.words, second.words);
    if (!turned) return { words };
    return { words: words.map((w) => ({ ...w, box: boxBack(turned, w.box, image.width, image.height) })) };
  }

  private async recognise(image: Buffer): Promise<OcrResult> {
    const slot = await this.take();
    try {
      const worker = await slot.worker;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`reading the text took longer than ${Math.round(this.timeoutMs / 1000)} s`)), this.timeoutMs);
      });
      try {
        const result = await Promise.race([worker.recognize(image, {}, { blocks: true, text: false }), timeout]);
        return { words: wordsOf(result.data) };
      } catch (err) {
        // The worker may be stuck in the WebAssembly call or broken: replace it.
        void worker.terminate().catch(() => undefined);
        slot.worker = this.spawn();
        throw err;
      } finally {
        clearTimeout(timer);
      }
    } finally {
      this.give(slot);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => s.worker.then((w) => w.terminate()).catch(() => undefined));
    this.slots.length = 0;
    await Promise.all(workers);
  }

  private async take(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new Error('the OCR engine is closed');
      const free = this.slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      if (this.slots.length < this.size) {
        const slot: Slot = { worker: this.spawn(), busy: true };
        this.slots.push(slot);
        return slot;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private give(slot: Slot): void {
    slot.busy = false;
    this.waiting.shift()?.();
  }

  private async spawn(): Promise<TesseractWorker> {
    const { createWorker, OEM, PSM } = await import('tesseract.js');
    // A local langPath: tesseract.js reads `<langPath>/<lang>.traineddata.gz` from disk (without
    // one it would fetch from a CDN); cacheMethod 'none' keeps it from writing a copy into the
    // working directory.
    const worker = await createWorker(this.languages, OEM.LSTM_ONLY, {
      langPath: languageDataDir(this.languages[0]!),
      workerPath: workerScript(),
      cacheMethod: 'none',
      gzip: true,
      logger: () => undefined,
      errorHandler: () => undefined,
    });
    // Sparse text: find as much text as possible in no particular order. Photos hold signs and
    // labels here and there, not pages; on the generated set the default (a page layout) found
    // no word on most signs, sparse text found them, and screenshots read the same either way.
    // Sauvola thresholding (local) instead of Otsu (one threshold for the whole photo): a light
    // sign on a busy background has a histogram the background dominates, and Otsu then cuts
    // between background and sign, not between sign and letters (measured: 4 more signs read of 24).
    // The resolution is fixed because photos carry none worth trusting (and Tesseract otherwise
    // prints its guess on stderr for every photo); its other notes ("Detected 4 diacritics") go to
    // /dev/null, so `leanlens index` shows only its progress.
    await worker.setParameters({ tessedit_pageseg_mode: PSM.SPARSE_TEXT, thresholding_method: '2', user_defined_dpi: '300', debug_file: '/dev/null' });
    return worker;
  }
}

/** Grey pixels, one byte each, row by row. */
export interface GreyPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A binary PGM (the engine reads it without a PNG encode and decode in between), negated on request. */
function toPgm(img: GreyPixels, negate: boolean): Buffer {
  const header = Buffer.from(`P5\n${img.width} ${img.height}\n255\n`);
  const out = Buffer.allocUnsafe(header.length + img.data.length);
  header.copy(out);
  if (!negate) out.set(img.data, header.length);
  else for (let i = 0; i < img.data.length; i++) out[header.length + i] = 255 - img.data[i]!;
  return out;
}

/** Below this confidence (0–100) a word is more often noise than text (the reader drops it). */
export const NOISE_CONFIDENCE = 45;

/** Words of both passes; where two overlap, both confident readings stay (noise gives way). */
function merge(a: OcrWord[], b: OcrWord[]): OcrWord[] {
  const lines = a.reduce((m, w) => Math.max(m, w.line + 1), 0);
  const out = [...a];
  for (const w of b) {
    const same = out.findIndex((x) => overlap(x.box, w.box) > 0.5);
    const moved = { ...w, line: w.line + lines };
    if (same < 0) out.push(moved);
    // The same place read differently: keep both readings when both are confident. Neither
    // confidence nor box size tells which is right (the negative of a dark-themed screenshot reads
    // "pas" as confidently as the first pass reads "pass", and the other way round elsewhere), and
    // a search should find either.
    else if (out[same]!.confidence < NOISE_CONFIDENCE) out[same] = { ...moved, line: out[same]!.line };
    else if (w.confidence >= NOISE_CONFIDENCE && w.text.toLowerCase() !== out[same]!.text.toLowerCase()) out.push(moved);
  }
  return out;
}

/** Intersection over the smaller box's area. */
function overlap(p: OcrWord['box'], q: OcrWord['box']): number {
  const w = Math.min(p[2], q[2]) - Math.max(p[0], q[0]);
  const h = Math.min(p[3], q[3]) - Math.max(p[1], q[1]);
  if (w <= 0 || h <= 0) return 0;
  const area = (b: OcrWord['box']) => Math.max(1, (b[2] - b[0]) * (b[3] - b[1]));
  return (w * h) / Math.min(area(p), area(q));
}

/** Flattens Tesseract's blocks → paragraphs → lines → words. */
function wordsOf(page: import('tesseract.js').Page): OcrWord[] {
  const out: OcrWord[] = [];
  let line = 0;
  for (const block of page.blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const l of paragraph.lines) {
        for (const w of l.words) {
          out.push({ text: w.text, confidence: w.confidence, box: [w.bbox.x0, w.bbox.y0, w.bbox.x1, w.bbox.y1], line });
        }
        line++;
      }
    }
  }
  return out;
}
