// The result grid sorted by date: a header per month, rows under it, windowing and arrow keys across headers.
import { describe, expect, it } from 'vitest';
import { focusAfterKey, gridLines, moveByRows, rowOf, scrollToLine, visibleLines } from '../../renderer/src/lib/grid-sections.ts';

describe('grouped result grid', () => {
  // 10 items: 5 in March, 2 in February, 3 in January; 4 columns.
  const groups = ['Mar', 'Mar', 'Mar', 'Mar', 'Mar', 'Feb', 'Feb', 'Jan', 'Jan', 'Jan'];
  const { lines, totalHeight } = gridLines({ count: 10, columns: 4, tile: 100, gap: 10, headerHeight: 40, groupOf: (i) => groups[i]! });

  it('puts a header before each group and starts a new row after it', () => {
    expect(lines.map((l) => l.header ?? `${l.start}-${l.end}`)).toEqual(['Mar', '0-4', '4-5', 'Feb', '5-7', 'Jan', '7-10']);
    expect(lines[1]!.top).toBe(40);
    expect(lines[3]!.top).toBe(40 + 2 * 110);
    expect(totalHeight).toBe(3 * 40 + 4 * 110 - 10);
  });

  it('lays out plain rows without groups', () => {
    const plain = gridLines({ count: 10, columns: 4, tile: 100, gap: 10, headerHeight: 40 });
    expect(plain.lines.map((l) => `${l.start}-${l.end}`)).toEqual(['0-4', '4-8', '8-10']);
    expect(plain.totalHeight).toBe(3 * 110 - 10);
  });

  it('renders only the lines on screen, out of 100,000 items', () => {
    const big = gridLines({ count: 100_000, columns: 8, tile: 180, gap: 12, headerHeight: 40, groupOf: (i) => `m${Math.floor(i / 500)}` });
    const { first, last } = visibleLines(big.lines, 1_000_000, 800, 400);
    expect(last - first).toBeLessThan(15);
    expect(big.lines[first]!.top + big.lines[first]!.height).toBeGreaterThan(1_000_000 - 400);
    expect(big.lines[last - 1]!.top).toBeLessThan(1_000_000 + 800 + 400);
  });

  it('moves up and down by rows across headers, keeping the column where it can', () => {
    expect(rowOf(lines, 0)).toBe(1);
    expect(rowOf(lines, 5)).toBe(4);
    expect(moveByRows(lines, 1, 1)).toBe(4); // row 4-5 has one tile
    expect(moveByRows(lines, 4, 1)).toBe(5); // over the Feb header
    expect(moveByRows(lines, 6, 1)).toBe(8);
    expect(moveByRows(lines, 8, -1)).toBe(6);
    expect(moveByRows(lines, 9, 1)).toBe(9); // the last row: stays
    expect(moveByRows(lines, 2, -1)).toBe(2); // the first row: stays
    expect(moveByRows(lines, 0, 3)).toBe(7);
  });

  it('scrolls just enough to show a line, leaving room for its header above', () => {
    expect(scrollToLine(lines[1]!, 0, 300)).toBe(0);
    expect(scrollToLine(lines[6]!, 0, 300)).toBe(lines[6]!.top + 100 - 300);
    expect(scrollToLine(lines[1]!, 500, 300, 40)).toBe(0);
  });
});

describe('keyboard focus in the result grid', () => {
  const plain = gridLines({ count: 10, columns: 4, tile: 100, gap: 10, headerHeight: 40 }).lines;
  it('moves by one, by a row and by a page, and stops at the edges', () => {
    expect(focusAfterKey('ArrowRight', 0, plain, 10, 2)).toBe(1);
    expect(focusAfterKey('ArrowLeft', 0, plain, 10, 2)).toBe(0);
    expect(focusAfterKey('ArrowRight', 9, plain, 10, 2)).toBe(9);
    expect(focusAfterKey('ArrowDown', 1, plain, 10, 2)).toBe(5);
    expect(focusAfterKey('ArrowDown', 7, plain, 10, 2)).toBe(9); // the short last row: its last tile
    expect(focusAfterKey('ArrowUp', 5, plain, 10, 2)).toBe(1);
    expect(focusAfterKey('ArrowUp', 2, plain, 10, 2)).toBe(2);
    expect(focusAfterKey('PageDown', 0, plain, 10, 2)).toBe(8);
    expect(focusAfterKey('PageUp', 9, plain, 10, 2)).toBe(1);
    expect(focusAfterKey('End', 0, plain, 10, 2)).toBe(9);
    expect(focusAfterKey('Home', 9, plain, 10, 2)).toBe(0);
    expect(focusAfterKey('Enter', 3, plain, 10, 2)).toBeNull();
    expect(focusAfterKey('ArrowRight', 0, [], 0, 2)).toBeNull();
  });
});
