/**
 * The search box's language, pure: one parser for the UI, the CLI and the server.
 *
 *   red car -night          text "red car", pushing away photos of "night"
 *   beach not people        "not X" is "-X"
 *   cat:2 + sofa            two texts, weighted 2 and 1 (like rclip)
 *   "a red car" -"at night" quoted phrases stay together (and are never read as filters)
 *   in:Holidays 2023        filters: a folder named Holidays, taken in 2023
 *   May 2024 · from:2023-06-01 to:2023-08-31 · before:2020 · after:2019-05 · type:png · camera:iPhone
 *
 * Every filter keeps the span of text it came from, so a chip can be removed by editing the query
 * (`withoutSpan`). Malformed input gives a QuerySyntaxError whose message says what to write
 * instead; nothing else is thrown.
 */

export interface QueryTerm {
  text: string;
  /** Positive weight (`cat:2` → 2); negatives carry their own weight, also positive. */
  weight: number;
  /** The text with its quoted phrases still quoted, when it had any: text in photos must match those in order. */
  quotedText?: string;
}

export interface TextSpan {
  start: number;
  end: number;
}

export type QueryFilter =
  | { kind: 'folder'; name: string; label: string; span: TextSpan }
  | { kind: 'date'; from: number | null; to: number | null; label: string; span: TextSpan }
  | { kind: 'type'; format: string; label: string; span: TextSpan }
  | { kind: 'camera'; name: string; label: string; span: TextSpan };

export interface ParsedQuery {
  positives: QueryTerm[];
  negatives: QueryTerm[];
  filters: QueryFilter[];
}

/** What the filters of a query mean together (dates intersect; several folders, types or cameras are alternatives). */
export interface QueryRestriction {
  from: number | null;
  to: number | null;
  folderNames: string[];
  formats: string[];
  cameras: string[];
}

export class QuerySyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuerySyntaxError';
  }
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH_LABELS = MONTHS.map((m) => m[0]!.toUpperCase() + m.slice(1, 3));
/** type: words people write, mapped to the format the library stores. */
const FORMAT_ALIASES: Record<string, string> = { jpg: 'jpeg', jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tif: 'tiff', tiff: 'tiff', heic: 'heic', heif: 'heic', avif: 'avif' };
const FILTER_KEYS = ['in', 'from', 'to', 'before', 'after', 'type', 'camera'] as const;
const MAX_WEIGHT = 100;
/** Years read as a date filter; other 4-digit numbers stay text. */
const YEAR = /^(19|20)\d\d$/;

interface Token {
  /** The word or phrase (quotes removed). */
  text: string;
  quoted: boolean;
  start: number;
  end: number;
}

/** Splits into words and quoted phrases; a quote may follow a `-` or a `key:` and may be followed by `:weight`. */
function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    if (/\s/.test(input[i]!)) {
      i++;
      continue;
    }
    const start = i;
    let text = '';
    let quoted = false;
    while (i < input.length && !/\s/.test(input[i]!)) {
      if (input[i] === '"') {
        const close = input.indexOf('"', i + 1);
        if (close < 0) throw new QuerySyntaxError(`a quote opened at character ${i + 1} is never closed: add the closing "`);
        text += input.slice(i + 1, close);
        quoted = true;
        i = close + 1;
      } else {
        text += input[i];
        i++;
      }
    }
    out.push({ text, quoted, start, end: i });
  }
  return out;
}

/** Parses the search box. Throws QuerySyntaxError (only) with a message a person can act on. */
export function parseQuery(input: string): ParsedQuery {
  const tokens = tokenize(input);
  const positives: QueryTerm[] = [];
  const negatives: QueryTerm[] = [];
  const filters: QueryFilter[] = [];
  let words: string[] = [];
  let weight = 1;
  /** The same words, quoted phrases kept in their quotes (see QueryTerm.quotedText). */
  let typed: string[] = [];
  const endTerm = () => {
    if (words.length) {
      const quotedText = typed.join(' ');
      positives.push({ text: words.join(' '), weight, ...(quotedText !== words.join(' ') ? { quotedText } : {}) });
    } else if (weight !== 1) throw new QuerySyntaxError('a weight needs a word before it, as in cat:2');
    words = [];
    typed = [];
    weight = 1;
  };

  /** After a `+`, a word must follow. */
  let needWord = false;
  /** The previous token ended a weighted term (`cat:2`), so a `+` after it joins nothing new. */
  let afterWeight = false;
  const plus = () => {
    if (words.length) endTerm();
    else if (!afterWeight || needWord) throw new QuerySyntaxError('"+" joins two search texts, as in cat + sofa: put a word on each side');
    needWord = true;
    afterWeight = false;
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    let raw = input.slice(t.start, t.end);
    if (!t.quoted && t.text === '+') {
      plus();
      continue;
    }
    if (raw.startsWith('+')) {
      // "+sofa": a `+` written against its word.
      plus();
      raw = raw.slice(1);
      t.text = t.text.slice(1);
      t.start += 1;
    }
    // not X / -X
    if (!t.quoted && t.text.toLowerCase() === 'not') {
      const next = tokens[i + 1];
      if (!next) throw new QuerySyntaxError('"not" needs a word after it, as in beach not people');
      negatives.push(negativeOf(next.text, next.quoted, input.slice(next.start, next.end)));
      afterWeight = false;
      i++;
      continue;
    }
    if (raw.startsWith('-') && raw.length > 1) {
      negatives.push(negativeOf(t.text.slice(1), t.quoted, raw.slice(1)));
      afterWeight = false;
      continue;
    }
    if (raw === '-') throw new QuerySyntaxError('"-" needs a word right after it, as in beach -people');
    // Filters and dates (never inside quotes).
    if (!t.quoted || /^[a-z]+:"/i.test(raw)) {
      const filter = filterOf(t, raw, tokens[i + 1]);
      if (filter) {
        filters.push(filter.filter);
        i += filter.used - 1;
        continue;
      }
    }
    const term = termOf(t.text, t.quoted, raw);
    words.push(term.text);
    typed.push(t.quoted ? `"${term.text}"` : term.text);
    needWord = false;
    afterWeight = false;
    if (term.weight !== 1) {
      weight = term.weight;
      // A weight ends its term: `cat:2 sofa` is read like `cat:2 + sofa`.
      endTerm();
      afterWeight = true;
    }
  }
  if (needWord) throw new QuerySyntaxError('"+" joins two search texts, as in cat + sofa: put a word on each side');
  endTerm();
  restrictionOf(filters); // checks that the dates can all hold at once
  return { positives, negatives, filters };
}

/** A negative term; a filter cannot be negated (its chip is simply removed). */
function negativeOf(text: string, quoted: boolean, raw: string): QueryTerm {
  const key = /^([a-z]+):/i.exec(raw)?.[1]?.toLowerCase();
  if (!quoted && key && (FILTER_KEYS as readonly string[]).includes(key)) {
    throw new QuerySyntaxError(`"-${raw}": a filter cannot be negated; remove it, or quote it to push away the text`);
  }
  return termOf(text, quoted, raw);
}

/** A word or phrase with an optional `:weight` suffix. */
function termOf(text: string, quoted: boolean, raw: string): QueryTerm {
  const m = /^(.*\S):(-?[\d.]+)$/.exec(quoted ? raw.replace(/^-/, '') : text);
  if (!m) {
    if (!text.trim()) throw new QuerySyntaxError('an empty phrase "" searches for nothing: remove it');
    if (!quoted && /^[a-z]+:/i.test(text)) {
      const key = text.slice(0, text.indexOf(':'));
      throw new QuerySyntaxError(`unknown filter "${key}:" — filters are ${FILTER_KEYS.map((k) => k + ':').join(' ')}; a weight is a number (cat:2); put "${text}" in quotes to search for it as text`);
    }
    return { text, weight: 1 };
  }
  const w = Number(m[2]);
  if (!Number.isFinite(w) || w <= 0 || w > MAX_WEIGHT) throw new QuerySyntaxError(`the weight in "${raw}" must be a number above 0 and at most ${MAX_WEIGHT}`);
  const body = m[1]!.replace(/^"|"$/g, '');
  if (!body.trim()) throw new QuerySyntaxError(`"${raw}" has a weight but no words`);
  return { text: body, weight: w };
}

/** A filter starting at token `t` (a month name may take the next token, its year); null when `t` is no filter. */
function filterOf(t: Token, raw: string, next: Token | undefined): { filter: QueryFilter; used: number } | null {
  const span = { start: t.start, end: t.end };
  if (YEAR.test(raw)) {
    const y = Number(raw);
    return { filter: { kind: 'date', from: dayStart(y, 0, 1), to: periodEnd(y, null, null), label: raw, span }, used: 1 };
  }
  const month = monthIndex(raw);
  if (month !== null && next && !next.quoted && YEAR.test(next.text)) {
    const y = Number(next.text);
    return {
      filter: { kind: 'date', from: dayStart(y, month, 1), to: periodEnd(y, month, null), label: `${MONTH_LABELS[month]} ${y}`, span: { start: t.start, end: next.end } },
      used: 2,
    };
  }
  const m = /^([a-z]+):(.*)$/i.exec(raw);
  if (!m) return null;
  const key = m[1]!.toLowerCase();
  if (!(FILTER_KEYS as readonly string[]).includes(key)) return null;
  const value = t.quoted ? t.text.slice(t.text.indexOf(':') + 1) : m[2]!;
  if (!value.trim()) throw new QuerySyntaxError(`"${key}:" needs a value, as in ${example(key)}`);
  switch (key) {
    case 'in':
      return { filter: { kind: 'folder', name: value, label: `in ${value}`, span }, used: 1 };
    case 'camera':
      return { filter: { kind: 'camera', name: value, label: `camera ${value}`, span }, used: 1 };
    case 'type': {
      const format = FORMAT_ALIASES[value.toLowerCase().replace(/^\./, '')];
      if (!format) throw new QuerySyntaxError(`"type:${value}" is not a photo type; use one of ${Object.keys(FORMAT_ALIASES).join(', ')}`);
      return { filter: { kind: 'type', format, label: `type ${format}`, span }, used: 1 };
    }
    default: {
      const p = period(value, key);
      const from = key === 'from' ? p.from : key === 'after' ? p.to + 1 : null;
      const to = key === 'to' ? p.to : key === 'before' ? p.from - 1 : null;
      return { filter: { kind: 'date', from, to, label: `${key} ${value}`, span }, used: 1 };
    }
  }
}

function example(key: string): string {
  return { in: 'in:Holidays', from: 'from:2023-06-01', to: 'to:2023-08-31', before: 'before:2020', after: 'after:2019-05', type: 'type:png', camera: 'camera:iPhone' }[key] ?? key;
}

function monthIndex(word: string): number | null {
  const w = word.toLowerCase().replace(/\.$/, '');
  if (w.length < 3) return null;
  const i = MONTHS.findIndex((m) => m === w || (w.length === 3 && m.startsWith(w)) || (w === 'sept' && m === 'september'));
  return i < 0 ? null : i;
}

/** A year, year-month or day (YYYY, YYYY-MM, YYYY-MM-DD) as its first and last millisecond, local time. */
function period(value: string, key: string): { from: number; to: number } {
  const m = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/.exec(value);
  if (!m) throw new QuerySyntaxError(`"${key}:${value}" is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD, as in ${example(key)}`);
  const y = Number(m[1]);
  const mo = m[2] === undefined ? null : Number(m[2]) - 1;
  const d = m[3] === undefined ? null : Number(m[3]);
  if (mo !== null && (mo < 0 || mo > 11)) throw new QuerySyntaxError(`"${key}:${value}": there is no month ${mo + 1}`);
  if (d !== null && (d < 1 || d > daysIn(y, mo!))) throw new QuerySyntaxError(`"${key}:${value}": that month has no day ${d}`);
  return { from: dayStart(y, mo ?? 0, d ?? 1), to: periodEnd(y, mo, d) };
}

function daysIn(y: number, month: number): number {
  return new Date(y, month + 1, 0).getDate();
}

function dayStart(y: number, month: number, day: number): number {
  const d = new Date(y, month, day);
  d.setFullYear(y); // years below 100 would otherwise mean 19xx
  return d.getTime();
}

/** The last millisecond of the year, month or day. */
function periodEnd(y: number, month: number | null, day: number | null): number {
  if (month === null) return dayStart(y + 1, 0, 1) - 1;
  if (day === null) return dayStart(y, month + 1, 1) - 1;
  return dayStart(y, month, day + 1) - 1;
}

/** The filters combined: dates intersect (an empty intersection is an error); the others are alternatives of their kind. */
export function restrictionOf(filters: readonly QueryFilter[]): QueryRestriction {
  const r: QueryRestriction = { from: null, to: null, folderNames: [], formats: [], cameras: [] };
  for (const f of filters) {
    if (f.kind === 'date') {
      if (f.from !== null) r.from = r.from === null ? f.from : Math.max(r.from, f.from);
      if (f.to !== null) r.to = r.to === null ? f.to : Math.min(r.to, f.to);
    } else if (f.kind === 'folder') r.folderNames.push(f.name);
    else if (f.kind === 'type') r.formats.push(f.format);
    else r.cameras.push(f.name);
  }
  if (r.from !== null && r.to !== null && r.from > r.to) {
    const dates = filters.filter((f) => f.kind === 'date').map((f) => f.label);
    throw new QuerySyntaxError(`no day is in all of ${dates.join(', ')}: keep the dates that overlap`);
  }
  return r;
}

/** The query with one span removed (a chip's ✕), spaces tidied. */
export function withoutSpan(input: string, span: TextSpan): string {
  return (input.slice(0, span.start) + ' ' + input.slice(span.end)).replace(/\s+/g, ' ').trim();
}

/** True when the query has text to rank by; a filters-only query lists photos by date. */
export function hasText(q: ParsedQuery): boolean {
  return q.positives.length > 0;
}
