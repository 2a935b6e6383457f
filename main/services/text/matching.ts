/**
 * Finding photos by the words read in them: FTS5 narrows the library to candidates (exact words,
 * prefixes, and the index's own words within the allowed edits of a query word), then every
 * candidate is scored by core's `scoreText`, the one rule for what matches.
 */
import {
  allowedEdits,
  editDistance,
  isEmptyQuery,
  isNumber,
  MIN_TEXT_SCORE,
  scoreText,
  wordsOf,
  type TextQuery,
  type TextScore,
} from '../../core/text-query.ts';
import type { Store } from '../store/index.ts';
import { ftsCandidates, indexedTerms } from './records.ts';

/** Candidates read from the index at most; a query word this common is not what makes a text search. */
export const MAX_CANDIDATES = 5000;

/** Content hashes whose text matches the query, with their score and the matching words. */
export function findText(store: Store, query: TextQuery): Map<string, TextScore> {
  const out = new Map<string, TextScore>();
  if (isEmptyQuery(query)) return out;
  const match = ftsQuery(store, query);
  for (const row of ftsCandidates(store, match, MAX_CANDIDATES)) {
    const s = scoreText(query, wordsOf(row.text));
    if (s.score >= MIN_TEXT_SCORE) out.set(row.hash, s);
  }
  return out;
}

/** An FTS5 query that any photo matching at least one query word satisfies (scoring does the rest). */
function ftsQuery(store: Store, query: TextQuery): string {
  const terms = new Set<string>();
  for (const word of new Set([...query.words, ...query.phrases.flat()])) {
    terms.add(quote(word));
    if (!isNumber(word) && word.length >= 3) terms.add(`${quote(word)}*`);
    // The word split in two by OCR at a wide gap: the two parts next to each other.
    if (!isNumber(word)) for (let k = 2; k <= word.length - 2; k++) terms.add(`"${word.slice(0, k)} ${word.slice(k)}"`);
    const edits = allowedEdits(word);
    if (edits > 0) {
      for (const t of indexedTerms(store, word.length - edits, word.length + edits)) {
        if (editDistance(word, t, edits) <= edits) terms.add(quote(t));
      }
    }
  }
  return [...terms].join(' OR ');
}

/** A word as an FTS5 string (so "and", "or", "near" and punctuation are never read as syntax). */
function quote(word: string): string {
  return `"${word.replace(/"/g, '""')}"`;
}
