/** Pure grid maths shared by the result grids: tile size for a viewport and keyboard steps. */

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
