/**
 * Which rows of a fixed-size tile grid are on screen. Pure maths, so the virtualized grid renders
 * only these rows whether it holds 20 results or 100,000.
 */
export interface GridWindow {
  columns: number;
  rowHeight: number;
  totalRows: number;
  totalHeight: number;
  firstRow: number;
  /** Exclusive. */
  lastRow: number;
}

export function gridWindow(opts: {
  count: number;
  width: number;
  height: number;
  scrollTop: number;
  tile: number;
  gap: number;
  overscanRows?: number;
}): GridWindow {
  const { count, width, height, scrollTop, tile, gap } = opts;
  const overscan = opts.overscanRows ?? 2;
  const columns = Math.max(1, Math.floor((Math.max(0, width) + gap) / (tile + gap)));
  const rowHeight = tile + gap;
  const totalRows = Math.ceil(count / columns);
  const totalHeight = Math.max(0, totalRows * rowHeight - gap);
  const firstVisible = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visibleRows = Math.ceil(Math.max(1, height) / rowHeight) + 1;
  const firstRow = Math.max(0, Math.min(totalRows, firstVisible - overscan));
  const lastRow = Math.max(firstRow, Math.min(totalRows, firstVisible + visibleRows + overscan));
  return { columns, rowHeight, totalRows, totalHeight, firstRow, lastRow };
}

/** The scrollTop that brings item `index` into view (unchanged when it already is). */
export function scrollToShow(index: number, w: GridWindow, scrollTop: number, height: number): number {
  const row = Math.floor(index / w.columns);
  const top = row * w.rowHeight;
  const bottom = top + w.rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + height) return bottom - height;
  return scrollTop;
}

/**
 * Columns and tile size for a viewport: tiles at least `minTile` wide, but never so tall that fewer
 * than `minRows` rows fit in the height (an 800×600 window still shows three rows of photos).
 */
export function tileLayout(opts: { width: number; height: number; minTile: number; gap: number; minRows?: number }): { columns: number; tile: number } {
  const { width, height, minTile, gap } = opts;
  const minRows = opts.minRows ?? 3;
  const byWidth = Math.floor((width + gap) / (minTile + gap));
  // The largest tile that still lets minRows rows (and their gaps) fit; unmeasured height: no limit.
  const maxTile = height > 0 ? Math.floor((height - (minRows - 1) * gap) / minRows) : Infinity;
  const byHeight = Number.isFinite(maxTile) ? Math.ceil((width + gap) / (Math.max(48, maxTile) + gap)) : 1;
  const columns = Math.max(1, byWidth, byHeight);
  return { columns, tile: Math.max(48, Math.floor((width - (columns - 1) * gap) / columns)) };
}

/** The preview's ←/→: the next index within `count` items, or null when nothing is open. */
export function stepIndex(index: number | null, delta: number, count: number): number | null {
  if (index == null || count === 0) return index;
  return Math.max(0, Math.min(count - 1, index + delta));
}
