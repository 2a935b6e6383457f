/**
 * text — text in photos (OCR): reads it with Tesseract (tesseract.js, worker threads, language
 * data from npm, nothing downloaded), stores it with its confidence and word boxes keyed by the
 * photo's content hash (a rename or move keeps it, an edit reads again), indexes it in FTS5, and
 * finds photos by their words (prefix, fuzzy, numbers exact, quoted phrases in order).
 *
 * Owns `photo_text`, its FTS5 index and vocabulary, and `text_folders` (migration 006).
 * Must never: write to the user's photos, read a photo before it is embedded (embedding goes
 * first), run recognition on the main thread, or fetch anything from the network.
 */
import type { PhotoText, TextCounts } from '../../core/contract.ts';
import type { Store } from '../store/index.ts';
import { photosToRead } from '../library/index.ts';
import { folderReadsText, readingOf, readingStates } from './records.ts';

export { TextEngine, languageDataDir, DEFAULT_TIMEOUT_MS, type TextEngineOptions } from './engine.ts';
export type { TextReader, TextReaderOptions } from './reader.ts';
export { mayHaveText, FIRST_LOOK_SIZE } from './first-look.ts';
export { findText } from './matching.ts';
export { folderReadsText, setFolderReadsText, saveReading, type Reading } from './records.ts';

/**
 * The OCR pass and one-photo reading load on first use: they bring sharp (decoding) and the
 * indexer's progress meter, which `status` and `search` must not load.
 */
export const loadReader = (): Promise<typeof import('./reader.ts')> => import('./reader.ts');

/** Photos counted by what OCR made of them, over the folders where it is on. */
export function textCounts(store: Store, folders: { id: number; path: string }[]): TextCounts {
  const on = new Set(folders.filter((f) => folderReadsText(store, f)).map((f) => f.id));
  const states = readingStates(store);
  const counts: TextCounts = { read: 0, withText: 0, pending: 0, failed: 0 };
  for (const p of photosToRead(store)) {
    const state = states.get(p.hash);
    if (state === 'failed') counts.failed++;
    else if (state) {
      counts.read++;
      if (state === 'text') counts.withText++;
    } else if (on.has(p.folderId)) counts.pending++;
  }
  return counts;
}

/** The text read in a photo, by its content hash; `off` / `pending` when none was read. */
export function photoText(store: Store, photo: { id: number; hash: string | null; folderReadsText: boolean }): PhotoText {
  const r = photo.hash ? readingOf(store, photo.hash) : null;
  if (!r) {
    return { photoId: photo.id, state: photo.folderReadsText ? 'pending' : 'off', text: '', confidence: null, words: [], error: null, readAt: null };
  }
  return { photoId: photo.id, state: r.state, text: r.text, confidence: r.confidence, words: r.words, error: r.error, readAt: r.readAt };
}
