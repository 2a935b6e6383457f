import { describe, expect, it } from 'vitest';
import { QuerySyntaxError, parseQuery, restrictionOf, withoutSpan, type QueryFilter } from '../../main/core/query-language.ts';

const local = (y: number, m: number, d: number) => new Date(y, m - 1, d).getTime();
const dates = (text: string) => {
  const r = restrictionOf(parseQuery(text).filters);
  return { from: r.from, to: r.to };
};
const error = (text: string) => {
  try {
    parseQuery(text);
  } catch (err) {
    expect(err).toBeInstanceOf(QuerySyntaxError);
    return (err as Error).message;
  }
  throw new Error(`"${text}" parsed without an error`);
};

describe('query language', () => {
  it('keeps plain words as one text', () => {
    expect(parseQuery('red car')).toEqual({ positives: [{ text: 'red car', weight: 1 }], negatives: [], filters: [] });
    expect(parseQuery('  red   car  ').positives).toEqual([{ text: 'red car', weight: 1 }]);
  });

  it('reads -word and "not word" as negatives', () => {
    expect(parseQuery('red car -night')).toMatchObject({ positives: [{ text: 'red car' }], negatives: [{ text: 'night', weight: 1 }] });
    expect(parseQuery('beach not people')).toMatchObject({ positives: [{ text: 'beach' }], negatives: [{ text: 'people' }] });
    expect(parseQuery('beach NOT "people swimming"').negatives).toEqual([{ text: 'people swimming', weight: 1 }]);
    expect(parseQuery('beach -"at night" -rain:2').negatives).toEqual([
      { text: 'at night', weight: 1 },
      { text: 'rain', weight: 2 },
    ]);
    // A hyphen inside a word is not a negative.
    expect(parseQuery('black-and-white photo').positives).toEqual([{ text: 'black-and-white photo', weight: 1 }]);
  });

  it('splits on + and reads weights like rclip', () => {
    expect(parseQuery('cat:2 + sofa').positives).toEqual([
      { text: 'cat', weight: 2 },
      { text: 'sofa', weight: 1 },
    ]);
    expect(parseQuery('cat + sofa +lamp').positives.map((t) => t.text)).toEqual(['cat', 'sofa', 'lamp']);
    expect(parseQuery('red car:1.5 + "blue sky":0.5').positives).toEqual([
      { text: 'red car', weight: 1.5 },
      { text: 'blue sky', weight: 0.5, quotedText: '"blue sky"' },
    ]);
  });

  it('keeps quoted phrases together and never reads them as filters', () => {
    const q = parseQuery('"in:Holidays 2023" dog');
    expect(q.filters).toEqual([]);
    // The quotes stay in quotedText: text in photos must then match the phrase's words in order.
    expect(q.positives).toEqual([{ text: 'in:Holidays 2023 dog', weight: 1, quotedText: '"in:Holidays 2023" dog' }]);
    expect(parseQuery('"ratio 16:9"').positives[0]!.text).toBe('ratio 16:9');
  });

  it('reads folder, type and camera filters, with their spans', () => {
    const text = 'dog in:Holidays type:JPG camera:"Canon EOS"';
    const q = parseQuery(text);
    expect(q.positives).toEqual([{ text: 'dog', weight: 1 }]);
    const kinds = q.filters.map((f) => [f.kind, f.label, text.slice(f.span.start, f.span.end)]);
    expect(kinds).toEqual([
      ['folder', 'in Holidays', 'in:Holidays'],
      ['type', 'type jpeg', 'type:JPG'],
      ['camera', 'camera Canon EOS', 'camera:"Canon EOS"'],
    ]);
    expect(restrictionOf(q.filters)).toMatchObject({ folderNames: ['Holidays'], formats: ['jpeg'], cameras: ['Canon EOS'] });
  });

  it('reads years, month-year pairs and from/to/before/after as local-time ranges', () => {
    expect(dates('beach 2023')).toEqual({ from: local(2023, 1, 1), to: local(2024, 1, 1) - 1 });
    expect(dates('May 2024')).toEqual({ from: local(2024, 5, 1), to: local(2024, 6, 1) - 1 });
    expect(dates('sept 2022')).toEqual({ from: local(2022, 9, 1), to: local(2022, 10, 1) - 1 });
    expect(dates('from:2023-06-01 to:2023-08-31')).toEqual({ from: local(2023, 6, 1), to: local(2023, 9, 1) - 1 });
    expect(dates('before:2020')).toEqual({ from: null, to: local(2020, 1, 1) - 1 });
    expect(dates('after:2019-05')).toEqual({ from: local(2019, 6, 1), to: null });
    expect(dates('from:2024-02-29')).toEqual({ from: local(2024, 2, 29), to: null });
    // "may" alone is a word, and so is a number that is no plausible year.
    expect(parseQuery('may flowers').filters).toEqual([]);
    expect(parseQuery('3000 balloons').positives[0]!.text).toBe('3000 balloons');
    expect(parseQuery('May 2024').positives).toEqual([]);
  });

  it('intersects several dates', () => {
    expect(dates('2023 after:2023-06')).toEqual({ from: local(2023, 7, 1), to: local(2024, 1, 1) - 1 });
  });

  it('a query of filters only has no text', () => {
    const q = parseQuery('in:Holidays 2023');
    expect(q.positives).toEqual([]);
    expect(q.filters.map((f) => f.kind)).toEqual(['folder', 'date']);
  });

  it('removes a chip by its span, tidying spaces', () => {
    const text = 'beach  May 2024 -people in:Holidays';
    const q = parseQuery(text);
    const month = q.filters.find((f): f is Extract<QueryFilter, { kind: 'date' }> => f.kind === 'date')!;
    expect(withoutSpan(text, month.span)).toBe('beach -people in:Holidays');
    const folder = q.filters.find((f) => f.kind === 'folder')!;
    expect(withoutSpan(text, folder.span)).toBe('beach May 2024 -people');
  });

  it('says what is wrong with malformed input, and never throws anything else', () => {
    expect(error('beach "sunset')).toMatch(/never closed/);
    expect(error('cat +')).toMatch(/word on each side/);
    expect(error('+ cat')).toMatch(/word on each side/);
    expect(error('cat + + sofa')).toMatch(/word on each side/);
    expect(error('beach -')).toMatch(/needs a word/);
    expect(error('beach not')).toMatch(/needs a word/);
    expect(error('cat:0')).toMatch(/above 0/);
    expect(error('cat:1000')).toMatch(/at most 100/);
    expect(error('colour:red')).toMatch(/unknown filter "colour:".*quotes/);
    expect(error('in:')).toMatch(/needs a value, as in in:Holidays/);
    expect(error('from:yesterday')).toMatch(/YYYY-MM-DD/);
    expect(error('from:2023-13')).toMatch(/no month 13/);
    expect(error('to:2023-02-30')).toMatch(/no day 30/);
    expect(error('type:bmp')).toMatch(/not a photo type/);
    expect(error('2022 2023')).toMatch(/no day is in all of 2022, 2023/);
    expect(error('-in:Holidays')).toMatch(/cannot be negated/);
    expect(error('""')).toMatch(/empty phrase/);
    // Whatever is typed, only a QuerySyntaxError or a result comes back.
    const junk = ['"', '::', '-"', ':2', 'a:b:c', '+', '-+', 'not not', '""":2', '\u0000', 'in:"', 'x'.repeat(3000), '🙂:2 + 🙂'];
    for (const text of junk) {
      try {
        parseQuery(text);
      } catch (err) {
        expect(err, text).toBeInstanceOf(QuerySyntaxError);
      }
    }
  });
});
