/**
 * The composed application, as every entry point (CLI, headless server, Electron main) sees it.
 * It implements the contract's `Api` — one async method per call, keyed by the call's name —
 * plus the few things a transport needs that are not calls: events, file serving by photo id,
 * and shutdown.
 */
import type { EncoderLauncher } from '../services/encoder/index.ts';
import type { Api, EventName, Events, IndexProgress, Status } from '../core/contract.ts';

/** Desktop actions the Electron shell provides; the headless server has none. */
export interface DesktopShell {
  openPath(path: string): Promise<void>;
  showItemInFolder(path: string): void;
}

export interface PhotoFile {
  /** Absolute real path, checked to be a library photo (or its cached thumbnail). */
  path: string;
  contentType: string;
}

export interface App extends Api {
  readonly dataDir: string;
  /** Subscribes to a pushed event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  /**
   * The file behind a library photo id: its cached thumbnail (made on first request) or the
   * original. Only ids in the database resolve, and only to real paths inside a library folder,
   * so no path from a client ever reaches the file system.
   */
  photoFile(id: number, kind: 'thumbnail' | 'original'): Promise<PhotoFile>;
  /** The library photo at this real path, or null: lets the CLI's `similar` take a path. */
  photoIdByPath(path: string): number | null;
  /** Brings the index up to date: reconciles folders with the disk and encodes everything pending. */
  sync(onProgress?: (p: IndexProgress) => void, options?: SyncOptions): Promise<Status>;
  /** Starts watching the folders and indexing in the background (the desktop app and `serve`). */
  startLive(): Promise<void>;
  close(): Promise<void>;
}

export interface SyncOptions {
  /** Run the OCR pass after embedding (default true; the `ocr` setting can still switch it off). */
  ocr?: boolean;
  onTextProgress?: (p: IndexProgress) => void;
}

export interface AppOptions {
  /** The app's own data (database, indexes, thumbnails, downloaded models). */
  dataDir: string;
  /** Folder holding the bundled `manifest.json`, models and tokenizer; defaults to the repo's `models/`. */
  modelsDir?: string;
  /** Extra manifests to register, e.g. `models/generated/manifest.json` for benchmarks. */
  extraManifests?: string[];
  /** Start chokidar watching and the background indexer (the desktop app and `serve` do; one-shot CLI commands don't). */
  live?: boolean;
  shell?: DesktopShell;
  /** Rolling database backups kept in <data>/backups (default 2; each is about the database's size). */
  backupsKept?: number;
  /** Who opens the library, as another process is told while this one owns it ("leanlens index", "the desktop app"). */
  command?: string;
  /**
   * After an unclean stop, a database up to this size is checked at open and a bigger one in the
   * background while the app already searches (default 64 MiB, the size checked at every open).
   */
  checkAtOpenBytes?: number;
  /** How the encoder process is started; default a Node child process (Electron passes its utilityProcess). */
  encoderLauncher?: EncoderLauncher;
}
