/**
 * library — keeps the `folders` and `photos` tables in step with the user's photo folders:
 * adding and removing folders, full reconciliation scans, and live watching with chokidar.
 *
 * Rows it creates or whose content changed get status 'pending' (the indexer's queue); a move or
 * rename keeps the row id and its vectors. Mass disappearances are held, not deleted, until
 * confirmed. Must never: read pixels (the indexer does), or write to, move or delete the user's
 * files. Nested folders: adding a folder inside an existing one returns the existing folder;
 * adding a parent absorbs the folders inside it (their photo rows are re-parented, no re-encode).
 */
import { EventEmitter } from 'node:events';
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { AppError, type FailedPhoto, type Folder } from '../../core/contract.ts';
import type { Store } from '../store/index.ts';
import { covers, folderRow, folderRows, listFolders, owningFolder, resolveFolderPath, type FolderRow } from './folders.ts';
import { hasSkippedComponent, IgnoreList, isInside, isPhotoPath } from './filters.ts';
import {
  applyObservations,
  isEmpty,
  noChanges,
  rowsInFolder,
  rowsUnder,
  settleFolder,
  type LibraryChanges,
  type Observation,
  type PhotoRow,
} from './reconcile.ts';
import { scanTree, statPhoto, type Problem, type ScanResult } from './scan.ts';
import { FolderWatcher, type WatchEvent } from './watching.ts';

/** How long after a folder appears while watched it is scanned once more (see rescanLater), ms. */
const FOLDER_RESCAN_MS = 1500;

export { hashFile } from './hashing.ts';
export { folderWentOffline } from './folders.ts';
export {
  photoById,
  folderOfPhoto,
  indexedPhotosById,
  takenAtById,
  timelineDays,
  timelinePage,
  timelinePosition,
  photoIdsInFolder,
  photoIdByPath,
  indexedPhotoPaths,
  photoCounts,
  resolvePhotoFile,
  photosLeftToIndex,
  photosToIndexReader,
  markPhotoFailed,
  photoIndexedWriter,
  type PhotoToIndex,
  type IndexedFacts,
  isFiltered,
  searchablePhotoIds,
  unsearchablePhotoIds,
  searchableVectors,
  countSearchable,
  searchableAmong,
  sampledSearchableVectors,
  newestSearchablePage,
  type PhotoFilter,
  type PhotoCounts,
  photosToRead,
  hashesById,
  searchablePhotosByHash,
  type PhotoToRead,
  indexedPhotoContents,
  indexedPhotosVersion,
  type PhotoContent,
} from './photos.ts';
export type { LibraryChanges } from './reconcile.ts';

export interface LibraryOptions {
  store: Store;
  /** Absolute paths never indexed, e.g. the app's data folder (it may sit inside a photo folder). */
  ignore?: string[];
  /** Share of a folder's photos that may vanish in one scan or batch before deletions are held. Default 0.2. */
  holdThreshold?: number;
  /** Fewer vanished photos than this are deleted even above the threshold. Default 3. */
  holdMinimum?: number;
  /** How long after a hold began further vanishings join it, ms. Default 60 000. */
  holdJoinMs?: number;
  /** How long a new file's size must hold still before it is read, unless it is complete by its format (write-settle.ts), ms. Default 1000. */
  watchStabilityMs?: number;
  /** Quiet time that closes a watcher batch, ms. Default 25 (a burst still lands in one batch: each event restarts it). */
  batchDelayMs?: number;
  /** While watching, how often offline folders are checked for their return, ms. Default 5000. */
  offlinePollMs?: number;
  /** How long after a folder event (a folder renamed, moved or copied in) its subtree is scanned once more, ms. Default 1500. */
  folderRescanMs?: number;
}

/** A read or scan problem: also kept for `failures()` until the path is scanned again. */
export interface LibraryError {
  path: string;
  reason: string;
}

export interface LibraryEvents {
  changed: [LibraryChanges];
  folders: [Folder[]];
  error: [LibraryError];
}

export class Library extends EventEmitter<LibraryEvents> {
  private readonly store: Store;
  private readonly ignore: IgnoreList;
  private readonly holdThreshold: number;
  private readonly holdMinimum: number;
  private readonly holdJoinMs: number;
  private readonly watchStabilityMs: number;
  private readonly batchDelayMs: number;
  private readonly offlinePollMs: number;
  private readonly folderRescanMs: number;
  /** Every mutation that spans an await runs through here, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FolderWatcher | null = null;
  private watchedRoots = new Set<string>();
  private offlineTimer: NodeJS.Timeout | null = null;
  /** Unreadable folders/files that have no photo row to carry the error. */
  private problems = new Map<string, string>();

  constructor(opts: LibraryOptions) {
    super();
    this.store = opts.store;
    this.ignore = new IgnoreList(opts.ignore ?? []);
    this.holdThreshold = opts.holdThreshold ?? 0.2;
    this.holdMinimum = opts.holdMinimum ?? 3;
    this.holdJoinMs = opts.holdJoinMs ?? 60_000;
    this.watchStabilityMs = opts.watchStabilityMs ?? 1000;
    this.batchDelayMs = opts.batchDelayMs ?? 25;
    this.offlinePollMs = opts.offlinePollMs ?? 5000;
    this.folderRescanMs = opts.folderRescanMs ?? FOLDER_RESCAN_MS;
    // States left over from a previous run (crash mid-scan, or the app quit while watching).
    this.store.db.prepare("UPDATE folders SET state = 'idle' WHERE state IN ('scanning', 'watching')").run();
  }

  listFolders(): Folder[] {
    return listFolders(this.store);
  }

  /**
   * Adds a folder and scans it (resolves once its photos have pending rows). Returns the
   * existing folder when the path is one already, or lies inside one; absorbs existing folders
   * inside the new one.
   */
  async addFolder(path: string): Promise<Folder> {
    const real = await resolveFolderPath(path);
    if (this.ignore.covers(real)) {
      throw new AppError('invalid-argument', `${path} is inside LeanLens's own data folder and cannot be a photo folder`);
    }
    return this.serial(async () => {
      const existing = folderRows(this.store);
      const parent = existing.find((f) => covers(f.path, real));
      if (parent) return this.folder(parent.id);

      const children = existing.filter((f) => covers(real, f.path));
      const db = this.store.db;
      const id = this.store.transaction(() => {
        const newId = Number(
          db.prepare("INSERT INTO folders (path, added_at, state) VALUES (?, ?, 'scanning')").run(real, Date.now()).lastInsertRowid,
        );
        for (const child of children) {
          db.prepare('UPDATE photos SET folder_id = ? WHERE folder_id = ?').run(newId, child.id);
          db.prepare('DELETE FROM folders WHERE id = ?').run(child.id);
        }
        return newId;
      });
      for (const child of children) this.stopWatching(child.path);
      this.emitFolders();

      const folder = folderRow(this.store, id)!;
      // Its rows are reported as 'changed' events, one per committed chunk, as the scan goes.
      await this.applyWithProblems([await this.observeWhole(folder)]);
      return this.folder(id);
    });
  }

  /** Forgets a folder: its photo rows go (vectors cascade). The files themselves are never touched. Emits 'folders' only. */
  removeFolder(id: number): void {
    const row = folderRow(this.store, id);
    if (!row) throw new AppError('not-found', `No library folder with id ${id}`);
    this.store.transaction(() => this.store.db.prepare('DELETE FROM folders WHERE id = ?').run(id));
    this.stopWatching(row.path);
    this.forgetProblems(row.path);
    this.emitFolders();
  }

  /** Deletes the rows whose deletion was held for this folder, and lifts the hold. */
  confirmDeletions(folderId: number): LibraryChanges {
    const row = folderRow(this.store, folderId);
    if (!row) throw new AppError('not-found', `No library folder with id ${folderId}`);
    const changes = noChanges();
    this.store.transaction(() => {
      const ids = this.store.db
        .prepare<[number], { id: number }>('SELECT id FROM photos WHERE folder_id = ? AND missing_since IS NOT NULL')
        .all(folderId)
        .map((r) => r.id);
      const del = this.store.db.prepare('DELETE FROM photos WHERE id = ?');
      for (const pid of ids) if (del.run(pid).changes) changes.removed.push(pid);
      if (row.state !== 'offline') settleFolder(this.store, folderId, this.settledState());
      else this.store.db.prepare('UPDATE folders SET held_deletions = 0 WHERE id = ?').run(folderId);
    });
    this.emitChanges(changes);
    this.emitFolders();
    return changes;
  }

  /**
   * "I put the files back": scans the folder again now. Photos found again leave the hold with
   * their vectors (no re-encode); those still missing stay held until confirmed.
   */
  restoreDeletions(folderId: number): Promise<LibraryChanges> {
    return this.serial(async () => {
      const row = folderRow(this.store, folderId);
      if (!row) throw new AppError('not-found', `No library folder with id ${folderId}`);
      const changes = await this.applyWithProblems([await this.observeWhole(row)]);
      this.syncWatchedRoots();
      this.emitFolders();
      return changes;
    });
  }

  /** Full scan of every folder against the database. Used at start-up and by `leanlens index`. */
  reconcile(): Promise<LibraryChanges> {
    return this.serial(async () => {
      const observations: Observation[] = [];
      for (const folder of folderRows(this.store)) {
        const obs = await this.observeWhole(folder);
        if (obs) observations.push(obs);
      }
      const changes = await this.applyWithProblems(observations);
      this.syncWatchedRoots();
      this.emitFolders();
      return changes;
    });
  }

  /** Starts watching every folder (or adds folders not yet watched). Resolves when the watcher is ready. */
  async watch(): Promise<void> {
    if (this.watcher) {
      this.syncWatchedRoots();
      return;
    }
    const roots = folderRows(this.store)
      .filter((f) => f.state !== 'offline')
      .map((f) => f.path);
    this.watchedRoots = new Set(roots);
    const watcher = new FolderWatcher(roots, {
      stabilityMs: this.watchStabilityMs,
      debounceMs: this.batchDelayMs,
      maxWaitMs: Math.max(2000, this.batchDelayMs * 10),
      isIgnored: (p, st) => this.isIgnoredLive(p, st),
      onBatch: (events) => this.serial(() => this.applyBatch(events)),
      onError: (err) => this.report({ path: '', reason: `watcher: ${(err as Error)?.message ?? String(err)}` }),
    });
    this.watcher = watcher;
    await watcher.ready;
    this.store.transaction(() => {
      for (const f of folderRows(this.store)) if (f.state === 'idle') settleFolder(this.store, f.id, 'watching');
    });
    this.offlineTimer = setInterval(() => void this.checkOffline(), this.offlinePollMs);
    this.offlineTimer.unref();
    this.emitFolders();
  }

  async unwatch(): Promise<void> {
    if (this.offlineTimer) clearInterval(this.offlineTimer);
    this.offlineTimer = null;
    const watcher = this.watcher;
    this.watcher = null;
    this.watchedRoots.clear();
    if (!watcher) return;
    await watcher.close();
    await this.serial(async () => undefined);
    this.store.db.prepare("UPDATE folders SET state = 'idle' WHERE state = 'watching'").run();
    this.emitFolders();
  }

  /** Photos that could not be read (status 'failed', whoever failed them), then unreadable folders (id 0: no photo row). */
  failures(): FailedPhoto[] {
    const rows = this.store.db
      .prepare<[], { id: number; path: string; error: string | null }>(
        "SELECT id, path, error FROM photos WHERE status = 'failed' ORDER BY path",
      )
      .all()
      .map((r) => ({ id: r.id, path: r.path, reason: r.error ?? 'failed' }));
    const scanProblems = [...this.problems].map(([path, reason]) => ({ id: 0, path, reason }));
    return [...rows, ...scanProblems];
  }

  // -------------------------------------------------------------------------------------------

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private settledState(): 'watching' | 'idle' {
    return this.watcher ? 'watching' : 'idle';
  }

  private async folder(id: number): Promise<Folder> {
    const f = this.listFolders().find((x) => x.id === id);
    if (!f) throw new AppError('not-found', `No library folder with id ${id}`);
    return f;
  }

  /**
   * A whole folder as it is now, or null (and state 'offline') when its root is missing. While
   * watching, the root is watched first and scanned after: a photo written meanwhile is seen by
   * one or the other (scanning first left a gap chokidar never reports, see watching.ts).
   */
  private async observeWhole(folder: FolderRow): Promise<Observation | null> {
    if (!(await this.rootPresent(folder))) return null;
    await this.startWatching(folder.path);
    this.store.db.prepare("UPDATE folders SET state = 'scanning' WHERE id = ?").run(folder.id);
    this.emitFolders();
    this.forgetProblems(folder.path);
    const scan = await scanTree(folder.path, this.scanContext(folder));
    this.remember(scan);
    return { folderId: folder.id, disk: scan.files, known: rowsInFolder(this.store, folder.id), unsure: scan.unsure };
  }

  /** False (and the folder marked offline) when the root is gone: an unplugged drive loses nothing. */
  private async rootPresent(folder: FolderRow): Promise<boolean> {
    const present = await stat(folder.path).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (!present && folder.state !== 'offline') {
      this.store.db.prepare("UPDATE folders SET state = 'offline' WHERE id = ?").run(folder.id);
      this.emitFolders();
    }
    return present;
  }

  private scanContext(folder: FolderRow) {
    return { root: folder.path, ignore: this.ignore };
  }

  private async applyWithProblems(observations: Array<Observation | null>): Promise<LibraryChanges> {
    const list = observations.filter((o): o is Observation => o !== null);
    if (!list.length) return noChanges();
    return applyObservations(this.store, list, {
      holdThreshold: this.holdThreshold,
      holdMinimum: this.holdMinimum,
      holdJoinMs: this.holdJoinMs,
      settledState: () => this.settledState(),
      onProblem: (p) => this.report(p),
      onChanges: (delta) => this.emit('changed', delta),
    });
  }

  /** One watcher batch: each touched folder is observed only where events happened. */
  private async applyBatch(events: WatchEvent[]): Promise<void> {
    if (!this.watcher) return;
    const folders = folderRows(this.store);
    const byFolder = new Map<FolderRow, WatchEvent[]>();
    for (const e of events) {
      const f = owningFolder(folders, e.path);
      if (f) byFolder.set(f, [...(byFolder.get(f) ?? []), e]);
    }
    const observations: Observation[] = [];
    for (const [folder, evs] of byFolder) {
      if (!(await this.rootPresent(folder))) {
        this.stopWatching(folder.path);
        continue;
      }
      const dirs = evs.filter((e) => e.kind === 'dir').map((e) => e.path);
      if (dirs.includes(folder.path)) {
        const whole = await this.observeWhole(folder);
        if (whole) observations.push(whole);
        continue;
      }
      const files = evs.filter((e) => e.kind === 'file' && !dirs.some((d) => isInside(e.path, d))).map((e) => e.path);
      const ctx = this.scanContext(folder);
      const obs: Observation = { folderId: folder.id, disk: [], known: [], unsure: [] };
      const knownIds = new Set<number>();
      const addKnown = (rows: PhotoRow[]) => {
        for (const r of rows) if (!knownIds.has(r.id) && (knownIds.add(r.id), true)) obs.known.push(r);
      };
      const merge = (seen: { disk: ScanResult['files']; unsure: string[] }) => {
        obs.disk.push(...seen.disk);
        obs.unsure.push(...seen.unsure);
      };
      for (const dir of dirs) {
        this.forgetProblems(dir);
        merge(await this.scanWritten(dir, ctx));
        addKnown(rowsUnder(this.store, folder.id, dir, sep));
      }
      for (const file of files) {
        this.problems.delete(file);
        const scan = await statPhoto(file, ctx);
        this.remember(scan);
        merge({ disk: scan.files, unsure: scan.unsure });
        addKnown(rowsUnder(this.store, folder.id, file, sep));
      }
      observations.push(obs);
    }
    await this.applyWithProblems(observations);
    this.syncWatchedRoots();
    if (observations.length || byFolder.size) this.emitFolders();
    this.rescanLater([...byFolder].flatMap(([folder, evs]) => evs.filter((e) => e.kind === 'dir').map((e) => ({ folder, dir: e.path }))));
  }

  /**
   * A subtree as it is now. A folder copied in may hold photos still being written: those are left
   * unsure (their rows, if any, kept) and wait for their own watcher event once whole.
   */
  private async scanWritten(dir: string, ctx: ReturnType<Library['scanContext']>): Promise<{ disk: ScanResult['files']; unsure: string[] }> {
    const scan = await scanTree(dir, ctx);
    this.remember(scan);
    const unwritten = (await this.watcher?.notYetWritten(scan.files)) ?? new Set<string>();
    return { disk: scan.files.filter((f) => !unwritten.has(f.path)), unsure: [...scan.unsure, ...unwritten] };
  }

  /**
   * A folder that appears (renamed, moved or copied in) is scanned above, but chokidar watches its
   * inside only a moment later: a photo moved out or deleted in between is never reported, and
   * its row would stay until the next start (found by the soak: a subfolder renamed, then a photo
   * moved out of it at once). So the subtree is looked at once more, like a drive that returns.
   */
  private rescanLater(dirs: { folder: FolderRow; dir: string }[]): void {
    if (!dirs.length) return;
    const again = setTimeout(() => {
      if (!this.watcher) return;
      void this.serial(async () => {
        const folders = folderRows(this.store);
        const observations: Observation[] = [];
        for (const { folder, dir } of dirs) {
          const current = folders.find((f) => f.id === folder.id);
          if (!current || current.state === 'offline' || !(await this.rootPresent(current))) continue;
          const seen = await this.scanWritten(dir, this.scanContext(current));
          observations.push({ folderId: current.id, ...seen, known: rowsUnder(this.store, current.id, dir, sep) });
        }
        await this.applyWithProblems(observations);
      });
    }, this.folderRescanMs);
    again.unref();
  }

  /** Filters chokidar's walk: hidden/system folders below a root, the ignore list, non-photo files. */
  private isIgnoredLive(path: string, stats?: Stats): boolean {
    // Called for every path chokidar walks: the in-memory root list, not a query.
    const folder = owningFolder([...this.watchedRoots].map((root) => ({ path: root })), path);
    if (!folder || path === folder.path) return false;
    if (hasSkippedComponent(folder.path, path) || this.ignore.covers(path)) return true;
    return !!stats?.isFile() && !isPhotoPath(path);
  }

  /** While watching, offline folders are polled; one that returns is rescanned and watched again. */
  private async checkOffline(): Promise<void> {
    const back: FolderRow[] = [];
    for (const f of folderRows(this.store)) {
      if (f.state !== 'offline') continue;
      if (await stat(f.path).then((s) => s.isDirectory(), () => false)) back.push(f);
    }
    if (!back.length) return;
    await this.serial(async () => {
      const observations = await Promise.all(back.map((f) => this.observeWhole(f)));
      await this.applyWithProblems(observations);
      this.syncWatchedRoots();
      this.emitFolders();
    });
  }

  /** Watched roots follow the folder list: offline folders are dropped (re-added on return), new ones added. */
  private syncWatchedRoots(): void {
    if (!this.watcher) return;
    const folders = folderRows(this.store);
    for (const f of folders) {
      if (f.state === 'offline') this.stopWatching(f.path);
      else void this.startWatching(f.path);
    }
    for (const root of [...this.watchedRoots]) if (!folders.some((f) => f.path === root)) this.stopWatching(root);
  }

  /** Resolves once the root is watched (at once when it already was, or when not watching). */
  private startWatching(root: string): Promise<void> {
    if (!this.watcher) return Promise.resolve();
    this.watchedRoots.add(root);
    return this.watcher.add(root);
  }

  private stopWatching(root: string): void {
    if (!this.watcher || !this.watchedRoots.has(root)) return;
    this.watchedRoots.delete(root);
    this.watcher.remove(root);
  }

  private remember(scan: ScanResult): void {
    for (const p of scan.problems) {
      this.problems.set(p.path, p.reason);
      this.report(p);
    }
  }

  private forgetProblems(under: string): void {
    for (const path of [...this.problems.keys()]) if (isInside(path, under)) this.problems.delete(path);
  }

  /** 'error' events only when someone listens: an unheard 'error' would crash the process. */
  private report(p: Problem): void {
    if (this.listenerCount('error') > 0) this.emit('error', p);
  }

  private emitChanges(changes: LibraryChanges): void {
    if (!isEmpty(changes)) this.emit('changed', changes);
  }

  private emitFolders(): void {
    this.emit('folders', this.listFolders());
  }
}
