// The Photos timeline's pure parts: justified rows, the month/day layout and its virtual window,
// keyboard neighbours, the address, multi-select, the export list and the viewer's zoom maths.
import { describe, expect, it } from 'vitest';
import { justify } from '../../renderer/src/lib/justified.ts';
import { DEFAULT_TIMELINE, headerAt, layoutTimeline, verticalNeighbour, visibleRange } from '../../renderer/src/lib/timeline-layout.ts';
import { formatAddress, parseAddress } from '../../renderer/src/lib/address.ts';
import { EMPTY_SELECTION, selectClick, selectedIndices } from '../../renderer/src/lib/selection.ts';
import { photosCsv, photosJson } from '../../renderer/src/lib/export-list.ts';
import { clampPan, fitScale, zoomAround } from '../../renderer/src/lib/zoom.ts';
import type { TimelineDay, TimelinePhoto } from '../../main/core/contract.ts';

const opts = { rowHeight: 200, gap: 4 };

describe('justified rows', () => {
  it('fills each row to the exact width, keeps aspect ratios, never exceeds the target height', () => {
    const aspects = [1.5, 0.67, 1, 1.78, 1.33, 0.75, 1.5, 2.4, 1, 1];
    const { boxes, height } = justify(aspects, 1000, opts);
    const rows = new Map<number, typeof boxes>();
    for (const b of boxes) rows.set(b.y, [...(rows.get(b.y) ?? []), b]);
    const ys = [...rows.keys()];
    ys.slice(0, -1).forEach((y) => {
      const row = rows.get(y)!;
      const last = row.at(-1)!;
      expect(last.x + last.w).toBeCloseTo(1000, 6); // full rows end exactly at the edge
      for (const b of row) expect(b.h).toBeLessThanOrEqual(200);
    });
    boxes.forEach((b, i) => expect(b.w / b.h).toBeCloseTo(aspects[i]!, 6));
    // The last row is not stretched: target height, left-aligned, not reaching the edge.
    const lastRow = rows.get(ys.at(-1)!)!;
    expect(lastRow[0]!.h).toBe(200);
    expect(lastRow.at(-1)!.x + lastRow.at(-1)!.w).toBeLessThan(1000);
    expect(height).toBe(lastRow[0]!.y + 200);
    // No two boxes overlap.
    for (const a of boxes) for (const b of boxes) if (a !== b) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
  });

  it('a single photo is shown at the target height, not blown up to the width', () => {
    expect(justify([1.5], 1000, opts).boxes[0]).toEqual({ x: 0, y: 0, w: 300, h: 200 });
    // Nonsense sizes (0, NaN, a 1-px banner) cannot collapse or explode a row.
    const odd = justify([0, Number.NaN, 1000], 1000, opts).boxes;
    for (const b of odd) expect(b.h).toBeGreaterThan(100);
  });
});

const days: TimelineDay[] = [
  { day: '2024-05-03', count: 7 },
  { day: '2024-05-01', count: 3 },
  { day: '2024-04-30', count: 12 },
  { day: '2023-12-25', count: 1 },
];

describe('timeline layout', () => {
  const l = layoutTimeline(days, () => 1.5, 1000);

  it('puts a month header before each month and a day header before each day, in order', () => {
    expect(l.headers.map((h) => `${h.kind}:${h.key}@${h.index}`)).toEqual([
      'month:2024-05@0',
      'day:2024-05-03@0',
      'day:2024-05-01@7',
      'month:2024-04@10',
      'day:2024-04-30@10',
      'month:2023-12@22',
      'day:2023-12-25@22',
    ]);
    expect(l.months.map((m) => [m.key, m.count])).toEqual([['2024-05', 10], ['2024-04', 12], ['2023-12', 1]]);
    for (let i = 1; i < l.headers.length; i++) expect(l.headers[i]!.y).toBeGreaterThan(l.headers[i - 1]!.y);
    // Each day's photos start below its header and end above the next header.
    for (const [k, h] of l.headers.entries()) {
      if (h.kind !== 'day') continue;
      expect(l.boxes[4 * h.index + 1]).toBe(h.y + DEFAULT_TIMELINE.dayHeader);
      const next = l.headers[k + 1];
      if (next) expect(l.boxes[4 * (next.index - 1) + 1]! + l.boxes[4 * (next.index - 1) + 3]!).toBeLessThanOrEqual(next.y);
    }
  });

  it('uses known aspect ratios and a 3:2 guess for photos not loaded yet', () => {
    const mixed = layoutTimeline([{ day: '2024-01-01', count: 2 }], (i) => (i === 0 ? 0.5 : null), 10_000);
    expect(mixed.boxes[2]! / mixed.boxes[3]!).toBeCloseTo(0.5);
    expect(mixed.boxes[6]! / mixed.boxes[7]!).toBeCloseTo(1.5);
  });

  it('finds the photos on screen with a window, not a scan, at 100,000 photos', () => {
    const many: TimelineDay[] = Array.from({ length: 1000 }, (_, d) => ({ day: `20${String(10 + Math.floor(d / 365)).padStart(2, '0')}-0${1 + (d % 9)}-${String(1 + (d % 28)).padStart(2, '0')}`, count: 100 }));
    const big = layoutTimeline(many, (i) => [1.5, 0.75, 1, 1.78][i % 4]!, 1200);
    expect(big.count).toBe(100_000);
    for (const top of [0, big.height / 3, big.height - 800]) {
      const { first, last } = visibleRange(big, top, top + 800);
      expect(last - first).toBeGreaterThan(0);
      expect(last - first).toBeLessThan(200);
      // Exactly the boxes that meet the window.
      const meets = (i: number) => big.boxes[4 * i + 1]! + big.boxes[4 * i + 3]! >= top && big.boxes[4 * i + 1]! < top + 800;
      for (let i = first; i < last; i++) expect(meets(i)).toBe(true);
      if (first > 0) expect(meets(first - 1)).toBe(false);
      if (last < big.count) expect(meets(last)).toBe(false);
    }
  });

  it('names the month and day at a scroll position (the sticky header)', () => {
    expect(headerAt(l, 0, 'day')).toBeNull(); // above the first day: nothing to pin yet
    expect(headerAt(l, DEFAULT_TIMELINE.monthHeader, 'day')?.key).toBe('2024-05-03');
    const april = l.headers.find((h) => h.key === '2024-04-30')!;
    expect(headerAt(l, april.y + 5, 'day')?.key).toBe('2024-04-30');
    expect(headerAt(l, april.y + 5, 'month')?.key).toBe('2024-04');
  });

  it('moves up and down to the nearest photo of the row above or below, across days', () => {
    const firstRowEnd = [...Array(l.count).keys()].find((i) => l.boxes[4 * (i + 1) + 1] !== l.boxes[1])!;
    const down = verticalNeighbour(l, 0, 1);
    expect(down).toBe(firstRowEnd + 1);
    expect(verticalNeighbour(l, down, -1)).toBe(0);
    expect(verticalNeighbour(l, 0, -1)).toBe(0);
    expect(verticalNeighbour(l, l.count - 1, 1)).toBe(l.count - 1);
    // From the last row of 3 May down into 1 May's row (3 photos: 7, 8, 9), to the one nearest below.
    const may1 = l.headers.find((h) => h.key === '2024-05-01')!.index;
    const below = verticalNeighbour(l, may1 - 1, 1);
    expect(below).toBeGreaterThanOrEqual(may1);
    expect(below).toBeLessThan(may1 + 3);
  });
});

describe('address', () => {
  it('round-trips the view, the query and the open photo', () => {
    const a = { view: 'search', query: 'red car & co', photo: 42 };
    expect(formatAddress(a)).toBe('#/search?q=red%20car%20%26%20co&photo=42');
    expect(parseAddress(formatAddress(a))).toEqual(a);
    expect(parseAddress('#/photos?photo=7')).toEqual({ view: 'photos', query: null, photo: 7 });
    expect(parseAddress('')).toEqual({ view: '', query: null, photo: null });
    expect(formatAddress({ view: 'photos', query: null, photo: null })).toBe('#/photos');
  });

  it('ignores a photo that is not an id', () => {
    for (const bad of ['abc', '-1', '1e3', '12345678901234567890', '']) expect(parseAddress(`#/photos?photo=${bad}`).photo).toBeNull();
  });
});

describe('multi-select', () => {
  it('click, Ctrl-click toggles, Shift-click selects a range from the anchor', () => {
    let s = selectClick(EMPTY_SELECTION, 5, { shift: false, toggle: false });
    expect(selectedIndices(s)).toEqual([5]);
    s = selectClick(s, 9, { shift: true, toggle: false });
    expect(selectedIndices(s)).toEqual([5, 6, 7, 8, 9]);
    s = selectClick(s, 7, { shift: false, toggle: true });
    expect(selectedIndices(s)).toEqual([5, 6, 8, 9]);
    // The anchor moved to 7: a range upwards from there adds 2…7.
    s = selectClick(s, 2, { shift: true, toggle: false });
    expect(selectedIndices(s)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    // While something is selected, a plain click toggles instead of starting over.
    s = selectClick(s, 20, { shift: false, toggle: false });
    expect(selectedIndices(s)).toContain(20);
    expect(s.items.size).toBe(9);
  });
});

describe('export list', () => {
  const p: TimelinePhoto = { id: 3, name: 'a, "b".jpg', path: '/x/a, "b".jpg', width: 4, height: 3, takenAt: Date.UTC(2024, 0, 2), takenAtSource: 'file', mtimeMs: 0 };
  it('writes CSV with quoting and JSON with the same fields', () => {
    const csv = photosCsv([p]);
    expect(csv).toBe('id,name,path,takenAt,dateSource,width,height\r\n3,"a, ""b"".jpg","/x/a, ""b"".jpg",2024-01-02T00:00:00.000Z,file,4,3\r\n');
    expect(JSON.parse(photosJson([p]))).toEqual([{ id: 3, name: 'a, "b".jpg', path: '/x/a, "b".jpg', takenAt: '2024-01-02T00:00:00.000Z', dateSource: 'file', width: 4, height: 3 }]);
  });
});

describe('viewer zoom', () => {
  it('fits a large photo, never enlarges a small one past 1:1', () => {
    expect(fitScale({ w: 4000, h: 3000 }, { w: 1000, h: 800 })).toBeCloseTo(0.25);
    expect(fitScale({ w: 320, h: 240 }, { w: 1000, h: 800 })).toBe(1);
  });
  it('keeps the point under the pointer in place, and the photo covering the stage', () => {
    const at = { x: 100, y: -50 };
    const p = zoomAround({ x: 0, y: 0 }, 1, 2, at);
    // Image point under `at` before: (at - pan)/1 = at; after: (at - p)/2 must be the same.
    expect((at.x - p.x) / 2).toBeCloseTo(at.x);
    expect((at.y - p.y) / 2).toBeCloseTo(at.y);
    expect(clampPan({ x: 999, y: -999 }, { w: 1200, h: 900 }, { w: 1000, h: 800 })).toEqual({ x: 100, y: -50 });
    expect(clampPan({ x: 5, y: 5 }, { w: 500, h: 400 }, { w: 1000, h: 800 })).toEqual({ x: 0, y: 0 });
  });
});
