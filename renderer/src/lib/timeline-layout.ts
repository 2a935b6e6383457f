/**
 * The Photos timeline's geometry: month headers, day headers and justified rows for every photo,
 * computed from the day counts (known at once) and the aspect ratios of the photos loaded so far
 * (unknown ones count as 3:2, so the page is as tall as it will roughly be before any row loads).
 * Everything is absolute y offsets, so a virtual list can draw only what is on screen.
 */
import type { TimelineDay } from '../../../main/core/contract.ts';
import { justifyInto, type JustifyOptions } from './justified.ts';

export const UNKNOWN_ASPECT = 1.5;

export interface TimelineHeader {
  kind: 'month' | 'day';
  /** 'YYYY-MM' for a month, 'YYYY-MM-DD' for a day. */
  key: string;
  y: number;
  /** Index of the first photo under it. */
  index: number;
}

export interface MonthMark {
  key: string;
  y: number;
  index: number;
  count: number;
}

export interface TimelineLayout {
  width: number;
  height: number;
  headers: TimelineHeader[];
  months: MonthMark[];
  /** x, y, w, h of photo i at 4i … 4i+3. */
  boxes: Float64Array;
  count: number;
}

export interface TimelineOptions extends JustifyOptions {
  monthHeader: number;
  dayHeader: number;
  /** Space after a day's last row. */
  dayGap: number;
}

export const DEFAULT_TIMELINE: TimelineOptions = { rowHeight: 200, gap: 4, monthHeader: 56, dayHeader: 36, dayGap: 16 };

export function layoutTimeline(
  days: TimelineDay[],
  aspectOf: (index: number) => number | null,
  width: number,
  opts = DEFAULT_TIMELINE,
): TimelineLayout {
  const count = days.reduce((n, d) => n + d.count, 0);
  const boxes = new Float64Array(count * 4);
  const headers: TimelineHeader[] = [];
  const months: MonthMark[] = [];
  let y = 0;
  let index = 0;
  for (const day of days) {
    const month = day.day.slice(0, 7);
    if (months.at(-1)?.key !== month) {
      months.push({ key: month, y, index, count: 0 });
      headers.push({ kind: 'month', key: month, y, index });
      y += opts.monthHeader;
    }
    months.at(-1)!.count += day.count;
    headers.push({ kind: 'day', key: day.day, y, index });
    y += opts.dayHeader;
    const aspects = new Float64Array(day.count);
    for (let i = 0; i < day.count; i++) aspects[i] = aspectOf(index + i) ?? UNKNOWN_ASPECT;
    y = justifyInto(aspects, Math.max(1, width), opts, y, boxes, index) + opts.dayGap;
    index += day.count;
  }
  return { width, height: y, headers, months, boxes, count };
}

/** The photos whose boxes meet [top, bottom): y only grows with the index, so two binary searches. */
export function visibleRange(l: TimelineLayout, top: number, bottom: number): { first: number; last: number } {
  const b = l.boxes;
  let lo = 0;
  let hi = l.count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (b[4 * mid + 1]! + b[4 * mid + 3]! < top) lo = mid + 1;
    else hi = mid;
  }
  const first = lo;
  hi = l.count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (b[4 * mid + 1]! < bottom) lo = mid + 1;
    else hi = mid;
  }
  return { first, last: lo };
}

/** The last header of `kind` at or above `y` (what a sticky header shows), or null above the first. */
export function headerAt(l: TimelineLayout, y: number, kind: 'month' | 'day'): TimelineHeader | null {
  let found: TimelineHeader | null = null;
  for (const h of l.headers) {
    if (h.y > y) break;
    if (h.kind === kind) found = h;
  }
  return found;
}

/** The photo nearest to `x` in the row above or below photo `i` (arrow keys in a justified grid). */
export function verticalNeighbour(l: TimelineLayout, i: number, dir: 1 | -1): number {
  const b = l.boxes;
  const rowY = b[4 * i + 1]!;
  const cx = b[4 * i]! + b[4 * i + 2]! / 2;
  let j = i;
  // Walk to the first photo of the next (or previous) row.
  while (j + dir >= 0 && j + dir < l.count && b[4 * (j + dir) + 1] === rowY) j += dir;
  j += dir;
  if (j < 0 || j >= l.count) return i;
  const targetY = b[4 * j + 1]!;
  let best = j;
  let bestD = Infinity;
  for (let k = j; k >= 0 && k < l.count && b[4 * k + 1] === targetY; k += dir) {
    const d = Math.abs(b[4 * k]! + b[4 * k + 2]! / 2 - cx);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

const monthNames = (style: 'long' | 'short') =>
  Array.from({ length: 12 }, (_, m) => new Date(2000, m, 1).toLocaleString(undefined, { month: style }));

/** 'May 2024' for '2024-05'. */
export function monthLabel(key: string, style: 'long' | 'short' = 'long'): string {
  const [y, m] = key.split('-').map(Number) as [number, number];
  return `${monthNames(style)[m - 1]} ${y}`;
}

/** 'Friday 3 May' (with the year when it is not `thisYear`) for '2024-05-03'. */
export function dayLabel(key: string, thisYear = new Date().getFullYear()): string {
  const [y, m, d] = key.split('-').map(Number) as [number, number, number];
  const date = new Date(y, m - 1, d);
  return date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', ...(y !== thisYear ? { year: 'numeric' } : {}) });
}
