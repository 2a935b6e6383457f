/**
 * The OCR pass as the app runs it: one TextReader, made on first need (it loads sharp and starts
 * the engine's worker threads only then), started after embedding, waiting whenever embedding
 * works, and switched off by the `ocr` setting.
 */
import { availableParallelism } from 'node:os';
import type { IndexProgress, Settings } from '../core/contract.ts';
import type { Store } from '../services/store/index.ts';
import type { Library } from '../services/library/index.ts';
import { loadReader, TextEngine, type TextReader } from '../services/text/index.ts';

const IDLE: IndexProgress = { state: 'idle', done: 0, total: 0, failed: 0, rate: 0, etaSeconds: null, current: null };

/** Engine workers at most: each holds the language model (~40 MB) and a page; 4 keep up with embedding. */
const MAX_WORKERS = 4;

export interface TextPassOptions {
  store: Store;
  library: Library;
  settings: () => Settings;
  /** Embedding is working: the pass waits. */
  embedding: () => boolean;
  onProgress: (p: IndexProgress) => void;
  onRead: (photoIds: number[]) => void;
}

export class TextPass {
  private reader: Promise<TextReader> | null = null;
  private made: TextReader | null = null;
  private engine: TextEngine | null = null;

  constructor(private readonly o: TextPassOptions) {}

  progress(): IndexProgress {
    return this.made?.progress() ?? IDLE;
  }

  /** Starts reading in the background (no-op when OCR is off or a pass runs). */
  start(): void {
    if (!this.o.settings().ocr) return;
    void this.get().then((r) => r.start());
  }

  /** Runs the pass to its end (or until paused), reporting progress. */
  async run(onProgress?: (p: IndexProgress) => void): Promise<void> {
    if (!this.o.settings().ocr) return;
    const r = await this.get();
    if (onProgress) r.on('progress', onProgress);
    try {
      r.resume();
      r.start();
      await r.whenIdle();
    } finally {
      if (onProgress) r.off('progress', onProgress);
    }
  }

  async pause(): Promise<IndexProgress> {
    const r = await this.get();
    r.pause();
    return r.progress();
  }

  async resume(): Promise<IndexProgress> {
    const r = await this.get();
    r.resume();
    return r.progress();
  }

  async close(): Promise<void> {
    if (!this.reader) return;
    const r = await this.reader;
    await r.close();
    await this.engine?.close();
  }

  private get(): Promise<TextReader> {
    this.reader ??= loadReader().then(({ TextReader }) => {
      const workers = Math.max(1, Math.min(this.o.settings().threads, availableParallelism(), MAX_WORKERS));
      const reader = new TextReader({
        store: this.o.store,
        engine: () => (this.engine ??= new TextEngine({ workers })),
        folders: () => this.o.library.listFolders(),
        enabled: () => this.o.settings().ocr,
        busy: this.o.embedding,
      });
      reader.on('progress', this.o.onProgress);
      reader.on('read', this.o.onRead);
      this.made = reader;
      return reader;
    });
    return this.reader;
  }
}
