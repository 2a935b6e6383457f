/**
 * The result grid's lines when results are grouped (sorted by date: a header per month, as the
 * timeline has): each line is a header or a row of up to `columns` tiles, with its own top. Pure
 * maths over the whole list, so the grid still renders only the lines on screen.
 */
export interface GridLine {
  top: number;
  height: number;
  /** A header's text; absent for a row of tiles. */
  header?: string;
  /** The items of a row, [start, end); a header has start === end (the first item after it). */
  start: number;
  end: number;
}

export function gridLines(opts: { count: number; columns: number; tile: number; gap: number; headerHeight: number; groupOf?: (i: number) => string }): { lines: GridLine[]; totalHeight: number } {
  const { count, columns, tile, gap, headerHeight, groupOf } = opts;
  const lines: GridLine[] = [];
  let top = 0;
  let i = 0;
  while (i < count) {
    const group = groupOf?.(i);
    let end = i + 1;
    if (groupOf) while (end < count && groupOf(end) === group) end++;
    else end = count;
    if (group !== undefined) {
      lines.push({ top, height: headerHeight, header: group, start: i, end: i });
      top += headerHeight;
    }
    for (let s = i; s < end; s += columns) {
      lines.push({ top, height: tile, start: s, end: Math.min(end, s + columns) });
      top += tile + gap;
    }
    i = end;
  }
  return { lines, totalHeight: Math.max(0, top - (lines.length ? gap : 0)) };
}

/** Index of the first line whose bottom is below `y` (binary search: lines are in top order). */
function lineAt(lines: GridLine[], y: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]!.top + lines[mid]!.height <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The lines to render for a viewport: those on screen plus `overscan` pixels above and below. */
export function visibleLines(lines: GridLine[], scrollTop: number, height: number, overscan: number): { first: number; last: number } {
  const first = lineAt(lines, Math.max(0, scrollTop - overscan));
  const last = Math.min(lines.length, lineAt(lines, scrollTop + height + overscan) + 1);
  return { first, last: Math.max(first, last) };
}

/** The row (not header) line holding item `index`. */
export function rowOf(lines: GridLine[], index: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid]!.start <= index) lo = mid;
    else hi = mid - 1;
  }
  // A header shares its start with the row after it.
  while (lines[lo]?.header !== undefined && lo + 1 < lines.length) lo++;
  return lo;
}

/** Item `rows` tile rows above (negative) or below `index`, in the same column where that row has one. */
export function moveByRows(lines: GridLine[], index: number, rows: number): number {
  let at = rowOf(lines, index);
  const column = index - lines[at]!.start;
  const step = rows < 0 ? -1 : 1;
  let left = Math.abs(rows);
  let target = at;
  for (let l = at + step; left > 0 && l >= 0 && l < lines.length; l += step) {
    if (lines[l]!.header !== undefined) continue;
    target = l;
    left--;
  }
  at = target;
  return Math.min(lines[at]!.start + column, lines[at]!.end - 1);
}

/** The scrollTop that brings the line of item `index` into view (unchanged when it already is). */
export function scrollToLine(line: GridLine, scrollTop: number, height: number, above = 0): number {
  if (line.top - above < scrollTop) return Math.max(0, line.top - above);
  if (line.top + line.height > scrollTop + height) return line.top + line.height - height;
  return scrollTop;
}

/**
 * Where a key moves the keyboard focus (the roving tabindex: the grid is one Tab stop and the keys
 * move inside it): ←/→ along the results, ↑/↓ a row (across headers), Page Up/Down a screen,
 * Home/End the ends. null for keys the grid does not use.
 */
export function focusAfterKey(key: string, index: number, lines: GridLine[], count: number, pageRows: number): number | null {
  if (count === 0 || lines.length === 0) return null;
  switch (key) {
    case 'ArrowRight':
      return Math.min(count - 1, index + 1);
    case 'ArrowLeft':
      return Math.max(0, index - 1);
    case 'ArrowDown':
      return moveByRows(lines, index, 1);
    case 'ArrowUp':
      return moveByRows(lines, index, -1);
    case 'PageDown':
      return moveByRows(lines, index, Math.max(1, pageRows));
    case 'PageUp':
      return moveByRows(lines, index, -Math.max(1, pageRows));
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
