// The virtualized result grid renders only the rows on screen: the window maths, at 100,000 results.
import { describe, expect, it } from 'vitest';
import { gridWindow, scrollToShow, tileLayout } from '../../renderer/src/lib/grid-window.ts';

describe('result grid window', () => {
  const base = { count: 100_000, width: 1000, height: 800, tile: 184, gap: 12, overscanRows: 2 };

  it('lays out whole tiles per row and a spacer tall enough for every result', () => {
    const w = gridWindow({ ...base, scrollTop: 0 });
    expect(w.columns).toBe(5); // 5*184 + 4*12 = 968 <= 1000; 6 would need 1164
    expect(w.totalRows).toBe(20_000);
    expect(w.totalHeight).toBe(20_000 * 196 - 12);
  });

  it('renders only the visible rows plus overscan, wherever the scroll is', () => {
    for (const scrollTop of [0, 123_456, 20_000 * 196 - 800]) {
      const w = gridWindow({ ...base, scrollTop });
      const rows = w.lastRow - w.firstRow;
      expect(rows).toBeLessThanOrEqual(Math.ceil(800 / 196) + 1 + 4);
      expect(w.firstRow * w.rowHeight).toBeLessThanOrEqual(scrollTop);
      expect(w.lastRow === w.totalRows || w.lastRow * w.rowHeight >= scrollTop + 800).toBe(true);
    }
  });

  it('copes with no results and a zero-width (not yet measured) viewport', () => {
    const w = gridWindow({ ...base, count: 0, width: 0, scrollTop: 0 });
    expect(w).toMatchObject({ columns: 1, totalRows: 0, totalHeight: 0, firstRow: 0, lastRow: 0 });
  });

  it('scrolls just enough to show an item above or below the viewport, and not at all when it is visible', () => {
    const w = gridWindow({ ...base, scrollTop: 0 });
    expect(scrollToShow(2, w, 0, 800)).toBe(0);
    expect(scrollToShow(5 * 10, w, 0, 800)).toBe(11 * 196 - 800);
    expect(scrollToShow(0, w, 5000, 800)).toBe(0);
  });
});

describe('result grid tile size', () => {
  it('keeps at least three rows on screen in an 800×600 window', () => {
    // 800×600: 60 px sidebar, 32 px padding, ~150 px of toolbar and filters above the grid.
    const { columns, tile } = tileLayout({ width: 708, height: 430, minTile: 176, gap: 12 });
    expect(3 * tile + 2 * 12).toBeLessThanOrEqual(430);
    expect(columns * tile + (columns - 1) * 12).toBeLessThanOrEqual(708);
  });
  it('fills the width of a wide window with tiles of at least the minimum size', () => {
    const { columns, tile } = tileLayout({ width: 1656, height: 900, minTile: 176, gap: 12 });
    expect(tile).toBeGreaterThanOrEqual(176);
    expect(columns).toBe(8);
    expect(1656 - (columns * tile + (columns - 1) * 12)).toBeLessThan(columns);
  });
});
