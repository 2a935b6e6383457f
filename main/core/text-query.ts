/**
 * Matching a search query against the text read in a photo (OCR), pure. One rule for the words
 * of a query and of a photo (the same normalisation as the FTS5 tokenizer: lower case, no
 * diacritics, runs of letters and digits), and one score, so the index lookup, the ranking and the
 * highlighted words in the preview can never disagree.
 *
 * OCR makes mistakes, so a query word matches a photo's word exactly, as a prefix ("recei" →
 * "receipt") or fuzzily (one edit for words of 4–7 letters, two from 8: "invoce" → "invoice").
 * Numbers match only exactly: "4471" must not find "4472". A quoted phrase must appear in order.
 */

export type MatchKind = 'exact' | 'prefix' | 'fuzzy';

/** How much each kind of match counts towards a photo's text score. */
export const MATCH_WEIGHT: Record<MatchKind, number> = { exact: 1, prefix: 0.8, fuzzy: 0.6 };

/** A word found split in two by OCR counts a little less than one found whole. */
const SPLIT_WEIGHT = 0.9;

/** A photo is a text match when at least this share of the query's words (phrases count as one) is found. */
export const MIN_TEXT_SCORE = 0.5;

/**
 * Function words that carry no meaning on their own: "a dog on the beach" is a CLIP query, and
 * the "on" of a road sign must not make it a text match.
 */
const STOP_WORDS = new Set(
  'a an the of on in at to and or with for is are was be by from as it its this that these those into over under near my your our their his her some'.split(' '),
);

export interface TextQuery {
  /** Significant single words (normalised), each to be found somewhere in the photo. */
  words: string[];
  /** Quoted phrases: their normalised words, to be found consecutively, in order. */
  phrases: string[][];
}

/** Lower case, diacritics removed, NFKC: what FTS5's unicode61 tokenizer with remove_diacritics does. */
export function normalise(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** The words of a text as the index sees them. */
export function wordsOf(text: string): string[] {
  return normalise(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

export function isNumber(word: string): boolean {
  return /^\p{N}+$/u.test(word);
}

/** Single words worth matching: numbers always, other words of 2+ letters that are not function words. */
function significant(word: string): boolean {
  return isNumber(word) || (word.length >= 2 && !STOP_WORDS.has(word));
}

export function parseTextQuery(query: string): TextQuery {
  const phrases: string[][] = [];
  const rest = query.replace(/"([^"]*)"/g, (_, inner: string) => {
    const words = wordsOf(inner);
    if (words.length > 0) phrases.push(words);
    return ' ';
  });
  const words = [...new Set(wordsOf(rest).filter(significant))];
  return { words, phrases };
}

export function isEmptyQuery(q: TextQuery): boolean {
  return q.words.length === 0 && q.phrases.length === 0;
}

/** Edits allowed between a query word and a photo's word for a fuzzy match. */
export function allowedEdits(queryWord: string): number {
  if (isNumber(queryWord) || queryWord.length < 4) return 0;
  return queryWord.length >= 8 ? 2 : 1;
}

/** How `queryWord` matches one word of a photo, or null. */
export function matchWord(queryWord: string, photoWord: string): MatchKind | null {
  if (queryWord === photoWord) return 'exact';
  if (isNumber(queryWord) || isNumber(photoWord)) return null;
  if (queryWord.length >= 3 && photoWord.startsWith(queryWord)) return 'prefix';
  const edits = allowedEdits(queryWord);
  if (edits > 0 && Math.abs(queryWord.length - photoWord.length) <= edits && editDistance(queryWord, photoWord, edits) <= edits) return 'fuzzy';
  return null;
}

export interface TextScore {
  /** 0..1: the weighted share of the query's words and phrases found. */
  score: number;
  /** The photo's words (normalised) that matched: the preview highlights them. */
  matched: string[];
}

/**
 * Scores a photo's words against a query. Every quoted phrase must be present (else 0); each
 * single word adds its best match's weight; the sum is divided by the number of words and phrases.
 */
export function scoreText(q: TextQuery, photoWords: readonly string[]): TextScore {
  const parts = q.words.length + q.phrases.length;
  if (parts === 0 || photoWords.length === 0) return { score: 0, matched: [] };
  const matched = new Set<string>();
  let sum = 0;
  for (const phrase of q.phrases) {
    const at = findPhrase(phrase, photoWords);
    if (at < 0) return { score: 0, matched: [] };
    for (let i = 0; i < phrase.length; i++) matched.add(photoWords[at + i]!);
    sum += 1;
  }
  const distinct = [...new Set(photoWords)];
  for (const word of q.words) {
    let best = 0;
    const hits: string[] = [];
    for (const pw of distinct) {
      const kind = matchWord(word, pw);
      if (!kind) continue;
      hits.push(pw);
      best = Math.max(best, MATCH_WEIGHT[kind]);
    }
    // OCR splits a word at a wide gap ("HARB OUR"): two neighbours joined may match it.
    for (let i = 0; best < 1 && i + 1 < photoWords.length; i++) {
      const kind = matchWord(word, photoWords[i]! + photoWords[i + 1]!);
      if (kind !== 'exact' && kind !== 'fuzzy') continue;
      hits.push(photoWords[i]!, photoWords[i + 1]!);
      best = Math.max(best, MATCH_WEIGHT[kind] * SPLIT_WEIGHT);
    }
    sum += best;
    for (const h of hits) matched.add(h);
  }
  return { score: sum / parts, matched: [...matched] };
}

/** Index of the first place the phrase's words follow one another (each matching as a word may), or -1. */
function findPhrase(phrase: readonly string[], words: readonly string[]): number {
  outer: for (let i = 0; i + phrase.length <= words.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (!matchWord(phrase[j]!, words[i + j]!)) continue outer;
    return i;
  }
  return -1;
}

/**
 * Optimal-string-alignment distance (Levenshtein plus swapping two neighbours, the commonest OCR
 * and typing slip), stopping early once every path exceeds `max`.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

/**
 * Folder names whose photos are mostly text: OCR is on for them unless the user turns it off.
 * Matched against the folder's own name ("Screenshots", "Scans", "Receipts", "Documents", …).
 */
export function looksLikeTextFolder(folderPath: string): boolean {
  const name = folderPath.split(/[\\/]/).filter(Boolean).pop() ?? '';
  return /screen ?shots?|scans?|scanned|receipts?|documents?|invoices?|slides?/i.test(name);
}
