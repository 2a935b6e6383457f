/** Matching query words against the words read in a photo (main/core/text-query.ts). */
import { describe, expect, it } from 'vitest';
import { editDistance, looksLikeTextFolder, matchWord, parseTextQuery, scoreText, wordsOf } from '../../main/core/text-query.ts';

const photo = (text: string) => wordsOf(text);

describe('text query', () => {
  it('normalises like the FTS5 tokenizer: lower case, no diacritics, letters and digits', () => {
    expect(wordsOf('Café RÉSUMÉ, n°4471!')).toEqual(['cafe', 'resume', 'n', '4471']);
  });

  it('keeps numbers and meaningful words, drops function words, and reads quoted phrases', () => {
    expect(parseTextQuery('a dog on the beach')).toEqual({ words: ['dog', 'beach'], phrases: [] });
    expect(parseTextQuery('invoice 4471 "gate b14"')).toEqual({ words: ['invoice', '4471'], phrases: [['gate', 'b14']] });
  });

  it('matches exactly, by prefix and fuzzily (OCR errors), but numbers only exactly', () => {
    expect(matchWord('invoice', 'invoice')).toBe('exact');
    expect(matchWord('recei', 'receipt')).toBe('prefix');
    expect(matchWord('invoce', 'invoice')).toBe('fuzzy');
    expect(matchWord('pharnacy', 'pharmacy')).toBe('fuzzy');
    expect(matchWord('4471', '4472')).toBeNull();
    expect(matchWord('447', '4471')).toBeNull();
    // Short words get no fuzziness: "cat" must not find "car".
    expect(matchWord('cat', 'car')).toBeNull();
    // Two edits only from 8 letters.
    expect(matchWord('statoin', 'station')).toBe('fuzzy'); // a swap is one edit
    expect(matchWord('stxtoin', 'station')).toBeNull();
  });

  it('scores the share of words found and lists the matching words', () => {
    const words = photo('INVOICE 4471 from Northwind\nAmount due');
    expect(scoreText(parseTextQuery('invoice 4471'), words)).toEqual({ score: 1, matched: ['invoice', '4471'] });
    expect(scoreText(parseTextQuery('invoice 4472'), words).score).toBe(0.5);
    expect(scoreText(parseTextQuery('invoce'), words).score).toBeCloseTo(0.6);
    expect(scoreText(parseTextQuery('receipt'), words).score).toBe(0);
  });

  it('matches a word OCR split in two at a wide gap, a little below a whole one', () => {
    const s = scoreText(parseTextQuery('harbour'), photo('HARB OUR open'));
    expect(s.matched).toEqual(['harb', 'our']);
    expect(s.score).toBeCloseTo(0.9);
  });

  it('requires a quoted phrase in order', () => {
    const words = photo('Gate B14 seat 21C');
    expect(scoreText(parseTextQuery('"gate b14"'), words).score).toBe(1);
    expect(scoreText(parseTextQuery('"b14 gate"'), words)).toEqual({ score: 0, matched: [] });
    expect(scoreText(parseTextQuery('"gate seat"'), words).score).toBe(0);
  });

  it('computes the optimal-string-alignment distance and stops early past the bound', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting', 1)).toBe(2);
  });

  it('turns OCR on by default for folders named like screenshots or scans only', () => {
    expect(looksLikeTextFolder('/home/me/Pictures/Screenshots')).toBe(true);
    expect(looksLikeTextFolder('C:\\Users\\me\\Scans')).toBe(true);
    expect(looksLikeTextFolder('/home/me/Pictures/Holiday 2024')).toBe(false);
  });
});
