import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer, bytesToUnicode, htmlUnescape } from '../../main/core/tokenizer.ts';

const MERGES_TEXT = gunzipSync(readFileSync(new URL('../../models/bpe_simple_vocab_16e6.txt.gz', import.meta.url))).toString('utf8');
const tok = new ClipTokenizer(MERGES_TEXT);

/** Expected output of `encode` for a list of BPE ids: start, ids, end, zero padding to 77. */
function framed(ids: number[]): number[] {
  const out = [49406, ...ids, 49407];
  while (out.length < 77) out.push(0);
  return out;
}

/**
 * Golden ids produced by OpenAI CLIP's own simple_tokenizer.py (Python, `regex` module) on this
 * vocabulary file. ftfy was not installed there, so these cases avoid text that ftfy would change.
 */
const REFERENCE: Array<[string, number[]]> = [
  ["a photo of a cat", [320, 1125, 539, 320, 2368]],
  ["Hello, World! 123", [3306, 267, 1002, 256, 272, 273, 274]],
  ["it's a dog's life", [585, 568, 320, 1929, 568, 970]],
  ["café crème", [15304, 1075, 12138, 614]],
  ["東京の夜景", [48338, 21078, 105, 21575, 23170, 250, 48132, 363]],
  ["a 🐶 on the beach 🏖️", [320, 10631, 525, 518, 2117, 1109, 28877]],
  ["", []],
  ["A &amp;amp; B", [320, 261, 321]],
  ["photos", [2479]],
  ["  multiple   spaces\ttabs\nnewline  ", [6470, 9006, 29163, 1218, 1148]],
  ["Straße in Zürich", [1894, 127, 253, 324, 530, 89, 6522, 4021]],
  ["Ελληνικά κείμενο", [138, 113, 138, 119, 138, 119, 138, 115, 138, 121, 138, 117, 138, 118, 138, 361, 138, 118, 138, 113, 138, 107, 138, 120, 138, 113, 138, 121, 138, 379]],
  ["Привет мир", [26302, 16370, 29503, 110, 22176, 141, 480, 38018, 16701, 141, 478]],
  ["사진 속 고양이", [31061, 105, 38890, 15115, 491, 36216, 254, 31625, 239, 34746]],
  ["2024-01-15 sunset @ 6:30pm!!!", [273, 271, 273, 275, 268, 271, 272, 268, 272, 276, 3424, 287, 277, 281, 274, 271, 990, 995]],
  ["naïve résumé", [1097, 35689, 563, 29106, 7054, 4166]],
  ["supercalifragilisticexpialidocious", [1642, 2857, 13093, 2076, 5868, 26850, 835, 639, 38466]],
  ["#hashtag", [258, 9238]],
  ["<|endoftext|> hi", [49407, 1883]],
  ["&lt;b&gt;bold&lt;/b&gt;", [283, 321, 285, 8911, 34308, 321, 285]],
  ["ÉCOLE", [3459, 8166]],
  ["🇫🇷 flag", [16223, 4859]],
  ["x́", [343, 136, 479]],
];

/** Independent of the tokenizer: a merged token's id is 512 + its line number among the merges. */
function idFromMergesFile(token: string): number {
  const lines = MERGES_TEXT.split('\n').slice(1, 48895);
  const index = lines.findIndex((line) => line.split(' ').join('') === token);
  if (index < 0) throw new Error(`${token} not in merges`);
  return 512 + index;
}

describe('ClipTokenizer', () => {
  it('has CLIP’s vocabulary size and special tokens', () => {
    expect(tok.vocabSize).toBe(49408);
    expect(tok.sot).toBe(49406);
    expect(tok.eot).toBe(49407);
  });

  it('encodes "a photo of a cat" exactly as CLIP does', () => {
    expect(tok.encode('a photo of a cat')).toEqual(framed([320, 1125, 539, 320, 2368]));
  });

  it.each(REFERENCE)('matches the reference tokenizer on %j', (text, ids) => {
    expect(tok.tokenize(text)).toEqual(ids);
    expect(tok.encode(text)).toEqual(framed(ids));
  });

  it('gives whole common words the id of their vocabulary entry', () => {
    for (const word of ['red', 'photo', 'cat', 'beach', 'sunset']) {
      const expected = idFromMergesFile(`${word}</w>`);
      expect(tok.idOf(`${word}</w>`)).toBe(expected);
      expect(tok.tokenize(word)).toEqual([expected]);
    }
    // Single letters are byte tokens: 'a</w>' is byte 'a' (index 64 among printable bytes) + 256.
    expect(tok.tokenize('a')).toEqual([256 + ('a'.charCodeAt(0) - 0x21)]);
  });

  it('lower-cases and collapses whitespace', () => {
    expect(tok.encode('  A   PHOTO\tof\na Cat  ')).toEqual(tok.encode('a photo of a cat'));
  });

  it('splits punctuation and single digits', () => {
    const ids = tok.tokenize('cat, 42!');
    expect(ids[0]).toBe(tok.idOf('cat</w>'));
    expect(ids).toContain(tok.idOf(',</w>'));
    expect(ids).toContain(tok.idOf('4</w>'));
    expect(ids).toContain(tok.idOf('2</w>'));
    expect(ids).toContain(tok.idOf('!</w>'));
    expect(ids).toHaveLength(5);
  });

  it('unescapes HTML twice, like CLIP', () => {
    expect(htmlUnescape('&amp;amp;')).toBe('&amp;');
    expect(htmlUnescape(htmlUnescape('&amp;amp;'))).toBe('&');
    expect(htmlUnescape('&#233;&#x4e2d;')).toBe('é中');
    expect(tok.encode('cats &amp; dogs')).toEqual(tok.encode('cats & dogs'));
  });

  it('normalises like ftfy: composed accents, curly quotes, full-width letters', () => {
    expect(tok.encode('cafe\u0301')).toEqual(tok.encode('café'));
    expect(tok.encode('it\u2019s')).toEqual(tok.encode("it's"));
    expect(tok.encode('ＣＡＴ')).toEqual(tok.encode('cat'));
  });

  it('falls back to bytes for emoji and unknown scripts, staying within the vocabulary', () => {
    for (const text of ['🦄🦄🦄', '𓀀 hieroglyph', '😀', 'ⵜⴰⵎⴰⵣⵉⵖⵜ']) {
      const ids = tok.tokenize(text);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) {
        expect(id).toBeGreaterThanOrEqual(0);
        expect(id).toBeLessThan(49406);
      }
    }
  });

  it('returns start, end and padding for empty or blank text', () => {
    expect(tok.encode('')).toEqual(framed([]));
    expect(tok.encode('   \n\t ')).toEqual(framed([]));
  });

  it('truncates over-long text to the context length with the end token last', () => {
    const long = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const ids = tok.encode(long);
    expect(ids).toHaveLength(77);
    expect(ids[0]).toBe(49406);
    expect(ids[76]).toBe(49407);
    expect(ids.slice(1, 76)).not.toContain(0);
    expect(ids.slice(1, 76)).toEqual(tok.tokenize(long).slice(0, 75));
  });

  it('respects a custom context length', () => {
    expect(tok.encode('a photo of a cat', 4)).toEqual([49406, 320, 1125, 49407]);
    expect(tok.encode('cat', 8)).toEqual([49406, 2368, 49407, 0, 0, 0, 0, 0]);
  });

  it('pads with the pad id a model states (some exporters pad with the end token)', () => {
    expect(tok.encode('cat', 6, 49407)).toEqual([49406, 2368, 49407, 49407, 49407, 49407]);
    expect(tok.encodeBatch(['cat'], 5, 7)).toEqual([[49406, 2368, 49407, 7, 7]]);
  });

  it('encodes batches in order, each 77 ids long', () => {
    const batch = tok.encodeBatch(['a photo of a cat', '', 'red']);
    expect(batch).toHaveLength(3);
    expect(batch.every((row) => row.length === 77)).toBe(true);
    expect(batch[0]).toEqual(tok.encode('a photo of a cat'));
    expect(batch[2]).toEqual(framed([idFromMergesFile('red</w>')]));
  });

  it('is stable when the same word is encoded again (cache)', () => {
    const first = tok.tokenize('photographers photographing');
    expect(tok.tokenize('photographers photographing')).toEqual(first);
  });

  it('maps all 256 bytes to distinct printable characters', () => {
    const table = bytesToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table['A'.charCodeAt(0)]).toBe('A');
    expect(table[0x20]).toBe('Ġ'); // space → U+0120, as in GPT-2/CLIP
  });

  it('rejects a truncated merges file instead of producing wrong ids', () => {
    expect(() => new ClipTokenizer(MERGES_TEXT.slice(0, 1000))).toThrow(/incomplete/);
  });
});
