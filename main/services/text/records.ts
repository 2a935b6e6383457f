/**
 * The text service's tables (migration 006): `photo_text` (what was read in each content hash,
 * indexed by FTS5 through triggers) and `text_folders` (the per-folder switch). All their SQL is here.
 */
import type { PhotoTextWord } from '../../core/contract.ts';
import { looksLikeTextFolder } from '../../core/text-query.ts';
import type { Store } from '../store/index.ts';

export type ReadingState = 'text' | 'none' | 'failed';

export interface Reading {
  state: ReadingState;
  text: string;
  /** Mean confidence of the kept words (0–100), null when there are none. */
  confidence: number | null;
  words: PhotoTextWord[];
  /** The first look saw no text, so the engine never ran. */
  skipped: boolean;
  error: string | null;
  engine: string;
  ms: number;
}

export interface StoredReading extends Reading {
  hash: string;
  readAt: number;
}

interface ReadingRow {
  hash: string;
  state: ReadingState;
  text: string;
  confidence: number | null;
  words: string;
  skipped: number;
  error: string | null;
  engine: string;
  ms: number;
  read_at: number;
}

export function saveReading(store: Store, hash: string, r: Reading, now = Date.now()): void {
  store.db
    .prepare(
      `INSERT INTO photo_text (hash, state, text, confidence, words, skipped, error, engine, ms, read_at)
       VALUES (@hash, @state, @text, @confidence, @words, @skipped, @error, @engine, @ms, @now)
       ON CONFLICT(hash) DO UPDATE SET state = excluded.state, text = excluded.text, confidence = excluded.confidence,
         words = excluded.words, skipped = excluded.skipped, error = excluded.error, engine = excluded.engine,
         ms = excluded.ms, read_at = excluded.read_at`,
    )
    .run({
      hash,
      state: r.state,
      text: r.text,
      confidence: r.confidence,
      words: JSON.stringify(r.words.map((w) => [w.text, w.confidence, ...w.box])),
      skipped: r.skipped ? 1 : 0,
      error: r.error,
      engine: r.engine,
      ms: r.ms,
      now,
    });
}

export function readingOf(store: Store, hash: string): StoredReading | null {
  const row = store.db.prepare<[string], ReadingRow>('SELECT * FROM photo_text WHERE hash = ?').get(hash);
  if (!row) return null;
  const words = (JSON.parse(row.words) as [string, number, number, number, number, number][]).map(
    ([text, confidence, x0, y0, x1, y1]): PhotoTextWord => ({ text, confidence, box: [x0, y0, x1, y1] }),
  );
  return {
    hash: row.hash,
    state: row.state,
    text: row.text,
    confidence: row.confidence,
    words,
    skipped: row.skipped === 1,
    error: row.error,
    engine: row.engine,
    ms: row.ms,
    readAt: row.read_at,
  };
}

/** The state of every hash read so far. */
export function readingStates(store: Store): Map<string, ReadingState> {
  const rows = store.db.prepare<[], { hash: string; state: ReadingState }>('SELECT hash, state FROM photo_text').all();
  return new Map(rows.map((r) => [r.hash, r.state]));
}

/** Drops readings of content no photo has any more (edited or removed photos), in one transaction. */
export function forgetReadings(store: Store, keep: Set<string>): number {
  const stale = store.db.prepare<[], string>('SELECT hash FROM photo_text').pluck().all().filter((h) => !keep.has(h));
  if (stale.length === 0) return 0;
  const del = store.db.prepare('DELETE FROM photo_text WHERE hash = ?');
  store.transaction(() => {
    for (const h of stale) del.run(h);
  });
  return stale.length;
}

/** Whether OCR is on for a folder: the user's choice, else on for folders named like Screenshots or Scans. */
export function folderReadsText(store: Store, folder: { id: number; path: string }): boolean {
  const chosen = store.db.prepare<[number], number>('SELECT ocr FROM text_folders WHERE folder_id = ?').pluck().get(folder.id);
  return chosen === undefined ? looksLikeTextFolder(folder.path) : chosen === 1;
}

export function setFolderReadsText(store: Store, folderId: number, on: boolean): void {
  store.db
    .prepare('INSERT INTO text_folders (folder_id, ocr) VALUES (?, ?) ON CONFLICT(folder_id) DO UPDATE SET ocr = excluded.ocr')
    .run(folderId, on ? 1 : 0);
}

/** Rows whose recognised text the FTS5 index matches (ids and their hash and text), at most `limit`. */
export function ftsCandidates(store: Store, match: string, limit: number): { hash: string; text: string }[] {
  return store.db
    .prepare<[string, number], { hash: string; text: string }>(
      `SELECT t.hash, t.text FROM photo_text t
       WHERE t.id IN (SELECT rowid FROM photo_text_fts WHERE photo_text_fts MATCH ? LIMIT ?) AND t.state = 'text'`,
    )
    .all(match, limit);
}

/** Words of the index whose length is in [min, max]: where fuzzy matching looks. */
export function indexedTerms(store: Store, min: number, max: number): string[] {
  return store.db.prepare<[number, number], string>('SELECT term FROM photo_text_terms WHERE length(term) BETWEEN ? AND ?').pluck().all(min, max);
}
