// Tile size of the result grids: whole tiles across, and at least three rows in a small window.
import { describe, expect, it } from 'vitest';
import { tileLayout } from '../../renderer/src/lib/grid-window.ts';

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
