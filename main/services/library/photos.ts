/**
 * Reads of the `photos` table that other modules need (the app's calls, search results, the lab's
 * sample photos). The library owns the table, so its SQL lives here and nowhere else: a column
 * change is made in one folder.
 */
import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { AppError, type Photo, type Timeline, type TimelinePhoto } from '../../core/contract.ts';
import { realInside } from '../../core/paths.ts';
import type { PhotoRecord, Store } from '../store/index.ts';

/** The columns `rowToPhoto` reads. */
export type PhotoRow = Pick<
  PhotoRecord,
  'id' | 'folder_id' | 'path' | 'size' | 'mtime_ms' | 'width' | 'height' | 'taken_at' | 'taken_at_source' | 'camera' | 'format' | 'status' | 'error'
>;

const PHOTO_COLUMNS = 'id, folder_id, path, size, mtime_ms, width, height, taken_at, taken_at_source, camera, format, status, error';

/** The one mapping from a `photos` row to the contract's Photo. */
export function rowToPhoto(row: PhotoRow): Photo {
  return {
    id: row.id,
    folderId: row.folder_id,
    path: row.path,
    name: basename(row.path),
    size: row.size,
    mtimeMs: row.mtime_ms,
    width: row.width,
    height: row.height,
    takenAt: row.taken_at,
    takenAtSource: row.taken_at_source,
    camera: row.camera,
    format: row.format,
    status: row.status,
    error: row.error,
  };
}

/** One photo by id; `not-found` when the library has no such row. */
export function photoById(store: Store, id: number): Photo {
  const row = store.db.prepare<[number], PhotoRow>(`SELECT ${PHOTO_COLUMNS} FROM photos WHERE id = ?`).get(id);
  if (!row) throw new AppError('not-found', `no photo with id ${id} in the library`);
  return rowToPhoto(row);
}

/** Indexed photos among `ids`, keyed by id (deleted or pending ones are left out). */
export function indexedPhotosById(store: Store, ids: number[]): Map<number, Photo> {
  const out = new Map<number, Photo>();
  for (const chunk of chunks(ids, 500)) {
    const rows = store.db
      .prepare<number[], PhotoRow>(
        `SELECT ${PHOTO_COLUMNS} FROM photos WHERE status = 'indexed' AND id IN (${chunk.map(() => '?').join(',')})`,
      )
      .all(...chunk);
    for (const r of rows) out.set(r.id, rowToPhoto(r));
  }
  return out;
}

/** Capture time of each of `ids` (null when the photo has none). */
export function takenAtById(store: Store, ids: number[]): Map<number, number | null> {
  const taken = new Map<number, number | null>();
  for (const chunk of chunks(ids, 500)) {
    const rows = store.db
      .prepare<number[], { id: number; taken_at: number | null }>(
        `SELECT id, taken_at FROM photos WHERE id IN (${chunk.map(() => '?').join(',')})`,
      )
      .all(...chunk);
    for (const r of rows) taken.set(r.id, r.taken_at);
  }
  return taken;
}

export function photoIdsInFolder(store: Store, folderId: number): number[] {
  return store.db.prepare<[number], number>('SELECT id FROM photos WHERE folder_id = ?').pluck().all(folderId);
}

export function photoIdByPath(store: Store, path: string): number | null {
  return store.db.prepare<[string], number>('SELECT id FROM photos WHERE path = ?').pluck().get(path) ?? null;
}

/** The first `limit` indexed photos' paths, in library order: calibration and benchmark samples. */
export function indexedPhotoPaths(store: Store, limit: number): string[] {
  return store.db.prepare<[number], string>("SELECT path FROM photos WHERE status = 'indexed' ORDER BY id LIMIT ?").pluck().all(limit);
}

export interface PhotoCounts {
  files: number;
  indexed: number;
  pending: number;
  failed: number;
}

export function photoCounts(store: Store): PhotoCounts {
  return store.db
    .prepare<[], PhotoCounts>(
      `SELECT count(*) AS files,
              coalesce(sum(status = 'indexed'), 0) AS indexed,
              coalesce(sum(status = 'pending'), 0) AS pending,
              coalesce(sum(status = 'failed'), 0) AS failed
       FROM photos`,
    )
    .get()!;
}

/**
 * A photo id → its real path, refusing anything that resolves outside its library folder (a
 * symlink swapped in after the scan), so no id can be turned into an arbitrary file read.
 */
export async function resolvePhotoFile(store: Store, id: number): Promise<string> {
  const row = store.db
    .prepare<[number], { path: string; folder: string }>(
      'SELECT p.path AS path, f.path AS folder FROM photos p JOIN folders f ON f.id = p.folder_id WHERE p.id = ?',
    )
    .get(id);
  if (!row) throw new AppError('not-found', `no photo with id ${id} in the library`);
  const real = await realInside(row.path, row.folder, realpath, { allowSame: false });
  if (real) return real;
  // Say which of the two it was: a missing file is common (unplugged drive), an escape is not.
  const exists = await realpath(row.path).then(() => true, () => false);
  throw new AppError('not-found', exists ? `the photo resolves outside its library folder: ${row.path}` : `the photo file is missing: ${row.path}`);
}

/**
 * Search filters on photos; absent means any. Folder and capture-date range (ms, inclusive), and
 * the query language's filters: a folder name anywhere in the path (`in:Holidays`), formats
 * (`type:png`) and camera names (`camera:iPhone`, a case-insensitive part of EXIF make + model).
 * Several names, formats or cameras are alternatives.
 */
export interface PhotoFilter {
  folderId?: number | null;
  from?: number | null;
  to?: number | null;
  folderNames?: readonly string[];
  formats?: readonly string[];
  cameras?: readonly string[];
}

export function isFiltered(f: PhotoFilter): boolean {
  return f.folderId != null || f.from != null || f.to != null || !!f.folderNames?.length || !!f.formats?.length || !!f.cameras?.length;
}

/** A LIKE pattern matching `text` literally (\\ escapes). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The FROM and WHERE of a search over indexed photos matching `f`. A folder or date filter names
 * its partial index (migration 010: only searchable photos, so a count or an id list reads no
 * table rows); left to itself SQLite prefers photos_timeline (status, taken_at), which needs a
 * row lookup per photo, or photos_status, which means walking the whole library (nearly every row
 * is 'indexed'). Other filters (names, formats, cameras) keep SQLite off the status index with
 * `+p.status`. Joins to `vectors` are CROSS JOINs for the same reason: photos first, so a date
 * range is not answered by walking every vector of the model.
 */
function searchableWhere(f: PhotoFilter): { from: string; sql: string; params: Record<string, number | string> } {
  const { sql, params } = filterSql(f);
  const index = f.folderId != null ? 'photos_searchable_folder' : f.from != null || f.to != null ? 'photos_searchable_taken' : null;
  // Held photos (missing_since set) are gone from disk: never offered.
  const status = `${sql && !index ? '+' : ''}p.status = 'indexed' AND p.missing_since IS NULL`;
  return { from: index ? `photos p INDEXED BY ${index}` : 'photos p', sql: `WHERE ${status}${sql}`, params };
}

/** The filter as SQL conditions on `photos p` with named parameters. */
function filterSql(f: PhotoFilter): { sql: string; params: Record<string, number | string> } {
  const parts: string[] = [];
  const params: Record<string, number | string> = {};
  if (f.folderId != null) {
    parts.push('p.folder_id = @folderId');
    params.folderId = f.folderId;
  }
  if (f.from != null) {
    parts.push('p.taken_at >= @from');
    params.from = f.from;
  }
  if (f.to != null) {
    parts.push('p.taken_at <= @to');
    params.to = f.to;
  }
  const anyOf = (values: readonly string[] | undefined, one: (name: string, i: number) => string[]) => {
    if (!values?.length) return;
    parts.push(`(${values.flatMap((v, i) => one(v, i)).join(' OR ')})`);
  };
  // A folder name is a whole path component, on either separator (LIKE is case-insensitive for ASCII).
  anyOf(f.folderNames, (name, i) => {
    params[`dirSlash${i}`] = `%/${likeLiteral(name)}/%`;
    params[`dirBack${i}`] = `%\\\\${likeLiteral(name)}\\\\%`; // Windows paths: an escaped backslash each side
    return [`p.path LIKE @dirSlash${i} ESCAPE '\\'`, `p.path LIKE @dirBack${i} ESCAPE '\\'`];
  });
  anyOf(f.formats, (format, i) => {
    params[`format${i}`] = format;
    return [`p.format = @format${i}`];
  });
  anyOf(f.cameras, (camera, i) => {
    params[`camera${i}`] = `%${likeLiteral(camera)}%`;
    return [`p.camera LIKE @camera${i} ESCAPE '\\'`];
  });
  return { sql: parts.length ? ` AND ${parts.join(' AND ')}` : '', params };
}

/** Indexed photos that match the filter and have a vector of `modelId`: what a filtered search may return. */
export function searchablePhotoIds(store: Store, modelId: string, f: PhotoFilter): Set<number> {
  const { from, sql, params } = searchableWhere(f);
  const ids = store.db
    .prepare<Record<string, unknown>, number>(
      `SELECT p.id FROM ${from} ${sql}
       AND EXISTS (SELECT 1 FROM vectors v WHERE v.photo_id = p.id AND v.model_id = @model)`,
    )
    .pluck()
    .all({ ...params, model: modelId });
  return new Set(ids);
}

/** Photos that must not appear in search although they may still have a vector (pending re-index, failed, held as missing). */
export function unsearchablePhotoIds(store: Store): Set<number> {
  // IN (…) rather than != lets SQLite use photos_status: in a settled library this set is tiny.
  // Held deletions too: their files are gone (or the folder is offline); a search must not offer them.
  return new Set(
    store.db
      .prepare<[], number>(
        // Two indexed lookups (an OR would scan every row): photos_status, and migration 009's partial photos_held.
        "SELECT id FROM photos WHERE status IN ('pending', 'failed') UNION SELECT id FROM photos INDEXED BY photos_held WHERE missing_since IS NOT NULL",
      )
      .pluck()
      .all(),
  );
}

/**
 * How many indexed photos match the filter (whether or not they have a vector of the active model
 * yet); `upTo` stops counting there. With a folder or date filter it reads only migration 010's
 * index: a cheap way to learn how selective a filter is before choosing how to search.
 */
export function countSearchable(store: Store, f: PhotoFilter, upTo = Number.MAX_SAFE_INTEGER): number {
  const { from, sql, params } = searchableWhere(f);
  return (
    store.db
      .prepare<Record<string, unknown>, number>(`SELECT COUNT(*) FROM (SELECT 1 FROM ${from} ${sql} LIMIT @upTo)`)
      .pluck()
      .get({ ...params, upTo }) ?? 0
  );
}

/** Which of `ids` are indexed photos matching the filter (looked up by id: cheap for a few thousand). */
export function searchableAmong(store: Store, f: PhotoFilter, ids: readonly number[]): Set<number> {
  const { sql, params } = filterSql(f);
  return new Set(
    store.db
      .prepare<Record<string, unknown>, number>(
        `SELECT p.id FROM photos p WHERE p.id IN (SELECT value FROM json_each(@ids))
         AND +p.status = 'indexed' AND p.missing_since IS NULL${sql}`,
      )
      .pluck()
      .all({ ...params, ids: JSON.stringify(ids) }),
  );
}

/** The stored vectors of `modelId` for the indexed photos matching the filter (a small, filtered set), in one query. */
export function searchableVectors(store: Store, modelId: string, f: PhotoFilter): { id: number; vector: Buffer }[] {
  const { from, sql, params } = searchableWhere(f);
  return store.db
    .prepare<Record<string, unknown>, { id: number; vector: Buffer }>(
      `SELECT p.id, v.vector FROM ${from} CROSS JOIN vectors v ON v.photo_id = p.id AND v.model_id = @model
       ${sql}`,
    )
    .all({ ...params, model: modelId });
}

/**
 * About `n` searchable vectors spread evenly over the photo ids (every k-th id): a fair sample of
 * a query's score distribution when the library is too large to score every photo.
 */
export function sampledSearchableVectors(
  store: Store,
  modelId: string,
  f: PhotoFilter,
  n: number,
  /** How many vectors the model has, when the caller knows (the index does: counting 1M rows costs tens of ms). */
  known?: number,
): { id: number; vector: Buffer }[] {
  const { from, sql, params } = searchableWhere(f);
  const count = known ?? store.db.prepare<[string], number>('SELECT COUNT(*) FROM vectors WHERE model_id = ?').pluck().get(modelId) ?? 0;
  const every = Math.max(1, Math.floor(count / Math.max(n, 1)));
  return store.db
    .prepare<Record<string, unknown>, { id: number; vector: Buffer }>(
      `SELECT p.id, v.vector FROM ${from} CROSS JOIN vectors v ON v.photo_id = p.id AND v.model_id = @model
       ${sql} AND p.id % @every = 0 LIMIT @n`,
    )
    .all({ ...params, model: modelId, every, n });
}

/** One page of searchable photos newest first (no date last), with their vectors, and how many there are. */
export function newestSearchablePage(
  store: Store,
  modelId: string,
  f: PhotoFilter,
  excluded: ReadonlySet<number>,
  offset: number,
  limit: number,
): { rows: { id: number; vector: Buffer }[]; total: number } {
  const { from: photos, sql, params } = searchableWhere(f);
  const ex = [...excluded].filter((n) => Number.isInteger(n));
  const notIn = ex.length ? ` AND p.id NOT IN (${ex.join(',')})` : '';
  const from = `FROM ${photos} CROSS JOIN vectors v ON v.photo_id = p.id AND v.model_id = @model
                ${sql}${notIn}`;
  const all = { ...params, model: modelId };
  const total = store.db.prepare<Record<string, unknown>, number>(`SELECT COUNT(*) ${from}`).pluck().get(all) ?? 0;
  const rows = store.db
    .prepare<Record<string, unknown>, { id: number; vector: Buffer }>(
      `SELECT p.id, v.vector ${from} ORDER BY p.taken_at IS NULL, p.taken_at DESC, p.id DESC LIMIT @limit OFFSET @offset`,
    )
    .all({ ...all, limit, offset });
  return { rows, total };
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * The photos a model still has to index (its queue, alias `p`, model id in `@model`): pending ones,
 * and indexed ones without this model's vector. Photos on an offline folder or held as missing are
 * left alone: decoding them would only mark them failed while a drive is unplugged.
 */
const PHOTOS_TO_INDEX = `
  (p.status = 'pending'
   OR (p.status = 'indexed' AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.photo_id = p.id AND v.model_id = @model)))
  AND p.missing_since IS NULL
  AND NOT EXISTS (SELECT 1 FROM folders f WHERE f.id = p.folder_id AND f.state = 'offline')`;

/** A photo waiting to be indexed, with the size and mtime it had when queued. */
export interface PhotoToIndex {
  id: number;
  path: string;
  size: number;
  mtime_ms: number;
}

/** Reads `modelId`'s queue in id order, `limit` photos after `after` (prepared once per queue). */
export function photosToIndexReader(store: Store, modelId: string): (after: number, limit: number) => PhotoToIndex[] {
  const page = store.db.prepare<{ model: string; after: number; limit: number }, PhotoToIndex>(
    `SELECT p.id, p.path, p.size, p.mtime_ms FROM photos p WHERE p.id > @after AND ${PHOTOS_TO_INDEX} ORDER BY p.id LIMIT @limit`,
  );
  return (after, limit) => page.all({ model: modelId, after, limit });
}

/**
 * Marks a photo failed with its reason, unless it changed since it was queued (then it is queued
 * again), was deleted, or was renamed or moved: a rename keeps size and mtime, and the failure
 * ("the file no longer exists") was the old path's, not the photo's. True when the row was marked.
 */
export function markPhotoFailed(store: Store, photo: { id: number; path: string; size: number; mtimeMs: number }, reason: string): boolean {
  const r = store.db
    .prepare(`UPDATE photos SET status = 'failed', error = ?, updated_at = ? WHERE id = ? AND path = ? AND mtime_ms = ? AND size = ?`)
    .run(reason, Date.now(), photo.id, photo.path, photo.mtimeMs, photo.size);
  return r.changes === 1;
}

/** What decoding a photo found out about it: the contract's own fields, so the two cannot drift. */
export type IndexedFacts = Pick<Photo, 'width' | 'height' | 'takenAt' | 'takenAtSource' | 'camera' | 'format'>;

/**
 * Records a photo as indexed with what its decode found, unless it changed since it was queued or
 * was deleted (false then). Prepared once, for use inside the caller's transaction with its vectors.
 */
export function photoIndexedWriter(store: Store): (photo: { id: number; size: number; mtimeMs: number }, facts: IndexedFacts, now: number) => boolean {
  const update = store.db.prepare(
    `UPDATE photos SET width = ?, height = ?, taken_at = ?, taken_at_source = ?, camera = ?, format = ?, status = 'indexed', error = NULL, updated_at = ?
     WHERE id = ? AND mtime_ms = ? AND size = ?`,
  );
  return (photo, f, now) =>
    update.run(f.width, f.height, f.takenAt, f.takenAtSource, f.camera, f.format, now, photo.id, photo.mtimeMs, photo.size).changes === 1;
}

/** How many photos `modelId` has still to index: 0 means it covers the library. */
export function photosLeftToIndex(store: Store, modelId: string): number {
  return store.db.prepare<{ model: string }, number>(`SELECT COUNT(*) FROM photos p WHERE ${PHOTOS_TO_INDEX}`).pluck().get({ model: modelId }) ?? 0;
}

/** The library folder a photo belongs to (id and root path), or null when the row is gone. */
export function folderOfPhoto(store: Store, photoId: number): { id: number; path: string } | null {
  return (
    store.db
      .prepare<[number], { id: number; path: string }>('SELECT f.id, f.path FROM photos p JOIN folders f ON f.id = p.folder_id WHERE p.id = ?')
      .get(photoId) ?? null
  );
}

// ---------------------------------------------------------------------------------------------
// The Photos timeline: indexed photos (their size and date are known), newest first, id as the
// tie-break so the order is total and a page boundary never repeats or skips a photo.
// ---------------------------------------------------------------------------------------------

const IN_TIMELINE = "status = 'indexed' AND taken_at IS NOT NULL";
const TIMELINE_ORDER = 'ORDER BY taken_at DESC, id DESC';

/**
 * How many photos each day holds, newest first, counted by SQLite (GROUP BY) so the scrubber and
 * the section heights are known without loading a row. Days are the local calendar days of the
 * capture times, which EXIF gives as local wall-clock time. (Counting per stretch of constant UTC
 * offset with integer arithmetic instead of localtime per row was tried: no faster at 100,000.)
 */
export function timelineDays(store: Store): Timeline {
  const days = store.db
    .prepare<[], { day: string; count: number }>(
      `SELECT date(taken_at / 1000, 'unixepoch', 'localtime') AS day, COUNT(*) AS count
       FROM photos WHERE ${IN_TIMELINE} GROUP BY day ORDER BY day DESC`,
    )
    .all();
  return { total: days.reduce((n, d) => n + d.count, 0), days };
}

/** Timeline photos `offset` … `offset + limit - 1` in the order `timelineDays` counts. */
export function timelinePage(store: Store, offset: number, limit: number): TimelinePhoto[] {
  return store.db
    .prepare<[number, number], Omit<TimelinePhoto, 'name'>>(
      // The OFFSET walk happens in the inner query, on the timeline index alone (no row reads).
      `SELECT id, path, width, height, taken_at AS takenAt, taken_at_source AS takenAtSource, mtime_ms AS mtimeMs
       FROM photos WHERE id IN (SELECT id FROM photos WHERE ${IN_TIMELINE} ${TIMELINE_ORDER} LIMIT ? OFFSET ?) ${TIMELINE_ORDER}`,
    )
    .all(limit, offset)
    .map((r) => ({ ...r, name: basename(r.path) }));
}

/** A photo's index in the timeline, or null when it is not in it (pending, failed, gone). */
export function timelinePosition(store: Store, id: number): number | null {
  const row = store.db.prepare<[number], { taken_at: number }>(`SELECT taken_at FROM photos WHERE id = ? AND ${IN_TIMELINE}`).get(id);
  if (!row) return null;
  return store.db
    .prepare<[number, number, number], number>(
      `SELECT COUNT(*) FROM photos WHERE ${IN_TIMELINE} AND (taken_at > ? OR (taken_at = ? AND id > ?))`,
    )
    .pluck()
    .get(row.taken_at, row.taken_at, id)!;
}

/** An indexed photo's path and what identifies its content (the sha256, else size and mtime). */
export interface PhotoContent {
  id: number;
  path: string;
  content: string;
}

/** Every indexed photo with its content key, in id order (the duplicates service fingerprints them). */
export function indexedPhotoContents(store: Store): PhotoContent[] {
  return store.db
    .prepare<[], PhotoContent>(
      `SELECT id, path, coalesce(hash, size || ':' || mtime_ms) AS content FROM photos WHERE status = 'indexed' ORDER BY id`,
    )
    .all();
}

/**
 * A key that changes whenever the set of indexed photos or any of their contents changes (a row
 * added, removed, re-indexed or edited): lets a result computed over the library be reused until then.
 */
export function indexedPhotosVersion(store: Store): string {
  const r = store.db
    .prepare<[], { n: number; latest: number | null; top: number | null }>(
      `SELECT count(*) AS n, max(updated_at) AS latest, max(id) AS top FROM photos WHERE status = 'indexed'`,
    )
    .get()!;
  return `${r.n}:${r.latest ?? 0}:${r.top ?? 0}`;
}

/** An embedded photo whose text may be read (services/text keys what it reads by `hash`). */
export interface PhotoToRead {
  id: number;
  folderId: number;
  path: string;
  hash: string;
}

/** Embedded photos with a content hash, present on disk: what the OCR pass may read. */
export function photosToRead(store: Store): PhotoToRead[] {
  return store.db
    .prepare<[], PhotoToRead>(
      `SELECT id, folder_id AS folderId, path, hash FROM photos
       WHERE status = 'indexed' AND hash IS NOT NULL AND missing_since IS NULL ORDER BY id`,
    )
    .all();
}

/** The content hash of each of `ids` that has one. */
export function hashesById(store: Store, ids: number[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const chunk of chunks(ids, 500)) {
    const rows = store.db
      .prepare<number[], { id: number; hash: string }>(`SELECT id, hash FROM photos WHERE hash IS NOT NULL AND id IN (${chunk.map(() => '?').join(',')})`)
      .all(...chunk);
    for (const r of rows) out.set(r.id, r.hash);
  }
  return out;
}

/** Searchable photos (indexed, matching the filter, with a vector of `modelId`) holding one of `hashes`. */
export function searchablePhotosByHash(store: Store, modelId: string, hashes: string[], f: PhotoFilter): { id: number; hash: string }[] {
  const { sql, params } = filterSql(f);
  const out: { id: number; hash: string }[] = [];
  for (const chunk of chunks(hashes, 500)) {
    const named = Object.fromEntries(chunk.map((h, i) => [`h${i}`, h]));
    out.push(
      ...store.db
        .prepare<Record<string, unknown>, { id: number; hash: string }>(
          `SELECT p.id, p.hash FROM photos p WHERE p.status = 'indexed'
           AND p.hash IN (${chunk.map((_, i) => `@h${i}`).join(',')})${sql}
           AND EXISTS (SELECT 1 FROM vectors v WHERE v.photo_id = p.id AND v.model_id = @model)`,
        )
        .all({ ...params, ...named, model: modelId }),
    );
  }
  return out;
}
