/**
 * The OCR pass: reads the text in every embedded photo of the folders where OCR is on, one
 * content hash at a time, after embedding and never alongside it (it waits while the indexer
 * works: embedding goes first). Pausable, with progress (count, rate, ETA) like indexing.
 *
 * Each photo: a first look at a small grey copy (milliseconds); only when it may hold text, a
 * larger grey copy goes to the engine's worker threads. A photo that cannot be read is stored as
 * failed with the reason, and the pass goes on.
 */
import { EventEmitter } from 'node:events';
import type { IndexProgress, PhotoTextWord } from '../../core/contract.ts';
import type { Store } from '../store/index.ts';
import { readGreyscale, type GreyImage } from '../media/index.ts';
import { ProgressMeter } from '../indexer/index.ts';
import { photosToRead, type PhotoToRead } from '../library/index.ts';
import { NOISE_CONFIDENCE, type OcrWord, type TextEngine } from './engine.ts';
import { FIRST_LOOK_SIZE, mayHaveText } from './first-look.ts';
import { folderReadsText, forgetReadings, readingStates, saveReading, type Reading } from './records.ts';

/** Longest side the engine reads: enough for screenshot text, bounded in time and memory on 50 MP photos. */
export const READ_SIZE = 2400;
/** A page with more words than this keeps the first ones: 10,000-word documents are read, not stored without bound. */
export const MAX_WORDS = 20_000;

export interface TextReaderOptions {
  store: Store;
  /** The engine, made on first need (its worker threads start only when a photo has to be read). */
  engine: () => TextEngine;
  /** The folders of the library (the per-folder switch and its default by name). */
  folders: () => { id: number; path: string }[];
  /** False when OCR is switched off in the settings. */
  enabled: () => boolean;
  /** True while embedding works: the pass waits, so embedding always has the CPU first. */
  busy: () => boolean;
  /** How often the pass looks again whether embedding is done. */
  pollMs?: number;
}

export interface TextReaderEvents {
  progress: [IndexProgress];
  /** Photo ids whose text was just read (or found absent). */
  read: [number[]];
}

export class TextReader extends EventEmitter<TextReaderEvents> {
  private readonly meter = new ProgressMeter();
  private loop: Promise<void> | null = null;
  private paused = false;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** Resumed while the paused pass was still finishing its last photo: start again when it ends. */
  private again = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: TextReaderOptions) {
    super();
    this.meter.onEmit = (p) => this.emit('progress', p);
  }

  /** Starts a pass when there is something to read (no-op while one runs, paused or stopped). */
  start(): void {
    if (this.loop || this.paused || this.stopping || !this.o.enabled()) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
      if (this.again && !this.paused && !this.stopping) {
        this.again = false;
        this.start();
        if (this.loop) return;
      }
      for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.meter.setState('paused', this.todo().length);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.wake?.();
    if (this.loop) {
      this.again = true;
      this.meter.setState('running', this.todo().length);
    } else this.start();
  }

  progress(): IndexProgress {
    return this.meter.snapshot();
  }

  /** Resolves when no pass runs (finished, or paused between photos). */
  whenIdle(): Promise<void> {
    if (!this.loop) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  /** Photos in folders with OCR on whose content has not been read yet. */
  todo(): PhotoToRead[] {
    const states = readingStates(this.o.store);
    const on = new Set(this.o.folders().filter((f) => folderReadsText(this.o.store, f)).map((f) => f.id));
    return photosToRead(this.o.store).filter((p) => on.has(p.folderId) && !states.has(p.hash));
  }

  private async run(): Promise<void> {
    const all = photosToRead(this.o.store);
    forgetReadings(this.o.store, new Set(all.map((p) => p.hash)));
    let todo = this.todo();
    if (todo.length === 0) return;
    this.meter.begin(todo.length);
    const engine = this.o.engine();
    while (todo.length > 0 && !this.stopping && this.o.enabled()) {
      // One photo per engine worker in flight; hashes shared by copies are read once.
      const seen = new Set<string>();
      const queue = todo.filter((p) => !seen.has(p.hash) && seen.add(p.hash));
      const copies = (hash: string) => todo.filter((p) => p.hash === hash).map((p) => p.id);
      await Promise.all(
        Array.from({ length: engine.size }, async () => {
          for (let p = queue.shift(); p; p = queue.shift()) {
            if (!(await this.gate())) return;
            this.meter.current(p.path);
            const reading = await readPhoto(engine, p.path);
            saveReading(this.o.store, p.hash, reading);
            const ids = copies(p.hash);
            this.meter.processed(reading.state === 'failed' ? 0 : ids.length, reading.state === 'failed' ? ids.length : 0, queue.length);
            this.emit('read', ids);
          }
        }),
      );
      if (this.paused || this.stopping) break;
      todo = this.todo(); // photos that arrived meanwhile
      if (todo.length) this.meter.adjustTotal(todo.length);
    }
    if (!this.paused) this.meter.setState('idle', 0);
  }

  /** Waits while paused or while embedding works; false when the pass must stop. */
  private async gate(): Promise<boolean> {
    for (;;) {
      if (this.stopping || !this.o.enabled()) return false;
      if (this.paused) return false;
      if (!this.o.busy()) return true;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.pollMs ?? 250);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}

/** Reads one photo: first look, then (maybe) the engine. Never throws: a failure is a reading too. */
export async function readPhoto(engine: TextEngine, path: string): Promise<Reading> {
  const started = performance.now();
  const base = { engine: engine.name, text: '', confidence: null, words: [], skipped: false, error: null };
  try {
    const small = await readGreyscale(path, FIRST_LOOK_SIZE);
    if (!mayHaveText(small)) return { ...base, state: 'none', skipped: true, ms: performance.now() - started };
    const image = await readGreyscale(path, READ_SIZE);
    const { words } = await engine.read(image);
    const kept = keepWords(words, image);
    const text = linesOf(kept);
    const confidence = kept.length ? kept.reduce((s, w) => s + w.confidence, 0) / kept.length : null;
    return { ...base, state: kept.length ? 'text' : 'none', text, confidence, words: kept.map((w) => w.word), ms: performance.now() - started };
  } catch (err) {
    return { ...base, state: 'failed', error: (err as Error).message || String(err), ms: performance.now() - started };
  }
}

interface KeptWord {
  word: PhotoTextWord;
  line: number;
  confidence: number;
}

/** Confident words with at least one letter or digit, boxes as fractions of the displayed photo. */
function keepWords(words: OcrWord[], img: GreyImage): KeptWord[] {
  const r = (v: number) => Math.round(v * 10_000) / 10_000;
  const out: KeptWord[] = [];
  for (const w of words) {
    const text = w.text.trim();
    if (w.confidence < NOISE_CONFIDENCE || !/[\p{L}\p{N}]/u.test(text)) continue;
    const [x0, y0, x1, y1] = w.box;
    out.push({
      word: { text, confidence: Math.round(w.confidence), box: [r(x0 / img.width), r(y0 / img.height), r(x1 / img.width), r(y1 / img.height)] },
      line: w.line,
      confidence: w.confidence,
    });
    if (out.length >= MAX_WORDS) break;
  }
  return out;
}

function linesOf(words: KeptWord[]): string {
  const lines: string[][] = [];
  let last = -1;
  for (const w of words) {
    if (w.line !== last) lines.push([]);
    last = w.line;
    lines[lines.length - 1]!.push(w.word.text);
  }
  return lines.map((l) => l.join(' ')).join('\n');
}
