/**
 * CLIP's text tokenizer (OpenAI `simple_tokenizer.py`), ported exactly: byte-level BPE over the
 * 49,408-entry vocabulary built from `bpe_simple_vocab_16e6.txt`. Pure: the caller reads and
 * decompresses the merges file and passes its text in.
 *
 * Text cleanup approximates `ftfy.fix_text` (NFC, curly quotes, ligatures, full-width forms,
 * control characters) because ftfy has no JavaScript port; for ordinary queries the result is
 * identical, and mojibake repair (ftfy's `fix_encoding`) is the one part left out.
 */

/** CLIP's start- and end-of-text token ids (the last two entries of its vocabulary). */
export const CLIP_SOT = 49406;
export const CLIP_EOT = 49407;

/**
 * Token rows as a text graph takes them: each row fitted to `contextLength` and padded with
 * `padId`, plus each row's real token count (start and end tokens included), which is what an
 * attention mask marks with 1. A row's real tokens end at its first end token `eot` — never "ids
 * that differ from padId", since the pad id may be the end token itself — or, without an end
 * token, at its last id. Rows may come unpadded (just the framed tokens) or padded by any
 * tokenizer; an over-long row is cut to `contextLength` with the end token kept last.
 */
export function fitTokenRows(
  rows: readonly (readonly number[])[],
  spec: { contextLength: number; padId: number },
  eot = CLIP_EOT,
): { ids: Int32Array; lengths: Int32Array } {
  const L = spec.contextLength;
  const ids = new Int32Array(rows.length * L).fill(spec.padId);
  const lengths = new Int32Array(rows.length);
  rows.forEach((row, r) => {
    for (let i = 0; i < row.length; i++) {
      const id = row[i]!;
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
        throw new Error(`token row ${r} has an invalid id at ${i} (${id}): ids are whole numbers from 0`);
      }
    }
    const end = row.indexOf(eot);
    let real = end >= 0 ? row.slice(0, end + 1) : [...row];
    if (real.length > L) {
      const hadEnd = end >= 0;
      real = real.slice(0, L);
      if (hadEnd) real[L - 1] = eot;
    }
    ids.set(real, r * L);
    lengths[r] = real.length;
  });
  return { ids, lengths };
}

/** CLIP's map from each byte to a printable character, so BPE never sees whitespace or control bytes. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table = new Array<string>(256);
  for (let i = 0; i < bs.length; i++) table[bs[i]] = String.fromCharCode(cs[i]);
  return table;
}

// Python's html.unescape knows every HTML5 entity; these are the ones that turn up in typed queries.
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«',
  raquo: '»', deg: '°', eacute: 'é', egrave: 'è', agrave: 'à', aacute: 'á', ccedil: 'ç', uuml: 'ü',
  ouml: 'ö', auml: 'ä', szlig: 'ß', ntilde: 'ñ', euro: '€', pound: '£', yen: '¥', cent: '¢', times: '×',
};

export function htmlUnescape(text: string): string {
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);?/g, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      if (code === 0) return '\ufffd';
      return String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[body] ?? NAMED_ENTITIES[body.toLowerCase()];
    // Python only accepts a named entity without ';' for a legacy subset; requiring it here is the safe side.
    return named !== undefined && whole.endsWith(';') ? named : whole;
  });
}

/** The parts of ftfy.fix_text that matter for search queries. */
function fixText(text: string): string {
  return (
    text
      // Terminal escapes and C0/C1 control characters (except tab/newline, which become spaces later).
      // eslint-disable-next-line no-control-regex -- matching control characters is the point here
      .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point here
      .replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/g, '')
      .replace(/[\u2018\u2019\u201a\u201b]/g, "'")
      .replace(/[\u201c\u201d\u201e\u201f]/g, '"')
      // Latin ligatures (ﬁ → fi) and full-width/half-width forms (ＡＢＣ → ABC) fold to their plain letters.
      .replace(/[\ufb00-\ufb06\uff01-\uffee\u3000]/g, (ch) => ch.normalize('NFKC'))
      .normalize('NFC')
  );
}

function basicClean(text: string): string {
  return htmlUnescape(htmlUnescape(fixText(text))).trim();
}

function whitespaceClean(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

const TOKEN_PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

const CACHE_LIMIT = 20_000;

export class ClipTokenizer {
  readonly sot: number;
  readonly eot: number;
  readonly vocabSize: number;
  private readonly encoder = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly byteEncoder = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();
  private readonly utf8 = new TextEncoder();

  /** @param bpeMergesText the decompressed text of `bpe_simple_vocab_16e6.txt.gz`. */
  constructor(bpeMergesText: string) {
    const lines = bpeMergesText.split('\n');
    // Line 0 is a version header; CLIP uses exactly the next 49152-256-2 merges.
    const mergeLines = lines.slice(1, 49152 - 256 - 2 + 1);
    if (mergeLines.length !== 49152 - 256 - 2) {
      throw new Error(`BPE merges file is incomplete: expected 48894 merges, found ${mergeLines.length}`);
    }
    // CLIP orders the byte vocabulary by bytes_to_unicode's insertion order, not by byte value.
    const bytes = byteOrder(this.byteEncoder);
    const vocab: string[] = [...bytes, ...bytes.map((c) => c + '</w>')];
    mergeLines.forEach((line, rank) => {
      const parts = line.split(/\s+/).filter(Boolean);
      if (parts.length !== 2) throw new Error(`BPE merges file: bad merge on line ${rank + 2}: '${line}'`);
      this.ranks.set(parts[0] + ' ' + parts[1], rank);
      vocab.push(parts[0] + parts[1]);
    });
    vocab.push('<|startoftext|>', '<|endoftext|>');
    vocab.forEach((token, id) => this.encoder.set(token, id));
    this.vocabSize = vocab.length;
    this.sot = this.encoder.get('<|startoftext|>')!;
    this.eot = this.encoder.get('<|endoftext|>')!;
  }

  /** Id of a vocabulary entry (e.g. 'red</w>'), or undefined. Useful for tests and debugging. */
  idOf(token: string): number | undefined {
    return this.encoder.get(token);
  }

  /** BPE ids of the text without start/end tokens or padding. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    const cleaned = whitespaceClean(basicClean(text)).toLowerCase();
    for (const match of cleaned.matchAll(TOKEN_PATTERN)) {
      const piece = match[0];
      if (piece === '<|startoftext|>' || piece === '<|endoftext|>') {
        ids.push(this.encoder.get(piece)!);
        continue;
      }
      let mapped = '';
      for (const byte of this.utf8.encode(piece)) mapped += this.byteEncoder[byte];
      for (const sub of this.bpe(mapped)) {
        const id = this.encoder.get(sub);
        // Cannot happen with a complete vocabulary (every byte has an entry); guard against a bad file.
        if (id === undefined) throw new Error(`token '${sub}' missing from the BPE vocabulary`);
        ids.push(id);
      }
    }
    return ids;
  }

  /**
   * Exactly `contextLength` ids: start, BPE ids, end, then `padId` (0 in OpenAI's tokenizer; some
   * exporters pad with the end token 49407); over-long text keeps the end token last.
   */
  encode(text: string, contextLength = 77, padId = 0): number[] {
    const body = this.tokenize(text);
    let tokens = [this.sot, ...body, this.eot];
    if (tokens.length > contextLength) {
      tokens = tokens.slice(0, contextLength);
      tokens[contextLength - 1] = this.eot;
    }
    while (tokens.length < contextLength) tokens.push(padId);
    return tokens;
  }

  encodeBatch(texts: string[], contextLength = 77, padId = 0): number[][] {
    return texts.map((t) => this.encode(t, contextLength, padId));
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + '</w>'];
    while (word.length > 1) {
      // Lowest-ranked adjacent pair, as CLIP's min(pairs, key=rank).
      let best: string | null = null;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(word[i] + ' ' + word[i + 1]);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = word[i] + ' ' + word[i + 1];
        }
      }
      if (best === null) break;
      const [first, second] = best.split(' ');
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]);
          i += 1;
        }
      }
      word = merged;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, word);
    return word;
  }
}

/** bytes_to_unicode's characters in its dict order: printable bytes first, then the remapped ones. */
function byteOrder(table: string[]): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) rest.push(b);
  return [...printable, ...rest].map((b) => table[b]);
}
