// Tilt measurement and straightening for OCR (main/services/text/deskew.ts), on drawn pixels:
// rows of letter-like strokes (stems and bars inside a bordered board) tilted by a known angle.
import { describe, expect, it } from 'vitest';
import { boxBack, estimateSkew, turn } from '../../main/services/text/deskew.ts';
import type { GreyPixels } from '../../main/services/text/engine.ts';

/**
 * A 640×480 grey photo with a dark board of "letters" (vertical stems and horizontal bars of a
 * light colour) turned clockwise by `degrees` around the centre, on a speckled background.
 */
function board(degrees: number, seed = 1): GreyPixels {
  const width = 640, height = 480;
  const data = new Uint8Array(width * height);
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad), sin = Math.sin(rad);
  let s = seed;
  const noise = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) % 30);
  // Board coordinates of a point: the point turned back anticlockwise around the centre.
  const shade = (x: number, y: number) => {
    const dx = x - width / 2, dy = y - height / 2;
    const u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
    if (Math.abs(u) >= 220 || Math.abs(v) >= 70) return -1;
    const col = (((u + 220) % 40) + 40) % 40;
    const stem = col < 6 || (col > 20 && col < 26);
    const bar = Math.abs(v) < 3 || Math.abs(v + 27) < 3;
    return Math.abs(v) < 30 && (stem || (bar && col < 26)) ? 230 : 40;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // 4×4 samples per pixel: a camera's pixels average the light that falls on them, so real
      // edges are anti-aliased (hard stair-stepped edges point at 0° or 45° whatever their run).
      let sum = 0;
      const background = 120 + noise();
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) {
        const v = shade(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4);
        sum += v < 0 ? background : v;
      }
      data[y * width + x] = Math.round(sum / 16);
    }
  }
  return { data, width, height };
}

describe('estimateSkew', () => {
  it.each([12, -10, 7, -15, 20])('finds a board tilted %i° within 1.5°', (deg) => {
    expect(Math.abs(estimateSkew(board(deg)) - deg)).toBeLessThanOrEqual(1.5);
  });

  it('finds no tilt in a level board', () => {
    expect(Math.abs(estimateSkew(board(0)))).toBeLessThanOrEqual(0.5);
  });

  it('finds no tilt where there are no strong straight edges (noise, a flat photo)', () => {
    const width = 400, height = 300;
    let s = 7;
    const noisy = new Uint8Array(width * height).map(() => ((s = (s * 1103515245 + 12345) & 0x7fffffff) % 256));
    // Random pixels have strong edges in every direction: no clear peak.
    expect(estimateSkew({ data: noisy, width, height })).toBe(0);
    expect(estimateSkew({ data: new Uint8Array(width * height).fill(128), width, height })).toBe(0);
  });
});

describe('turn', () => {
  it('levels a tilted board, keeping every corner on a larger canvas', () => {
    const tilted = board(12);
    const t = turn(tilted, estimateSkew(tilted));
    expect(t.image.width).toBeGreaterThan(tilted.width);
    expect(t.image.height).toBeGreaterThan(tilted.height);
    expect(Math.abs(estimateSkew(t.image))).toBeLessThanOrEqual(1.5);
  });

  it('maps a box of the turned image back onto the same place of the original', () => {
    const tilted = board(12);
    const t = turn(tilted, 12);
    // The board's centre is the image's centre in both; a box around it maps back around it.
    const cx = t.image.width / 2, cy = t.image.height / 2;
    const [x0, y0, x1, y1] = boxBack(t, [cx - 50, cy - 10, cx + 50, cy + 10], tilted.width, tilted.height);
    expect(x0).toBeLessThan(320);
    expect(x1).toBeGreaterThan(320);
    expect(y0).toBeLessThan(240);
    expect(y1).toBeGreaterThan(240);
    // A level 100×20 box turned by 12° spans more height than 20 (it is the box around a tilted box).
    expect(y1 - y0).toBeGreaterThan(35);
    // A pixel read back through the mapping is the pixel the turned image holds there.
    const [sx, sy] = t.back(cx + 100, cy + 5);
    const original = tilted.data[Math.round(sy) * tilted.width + Math.round(sx)]!;
    const turned = t.image.data[Math.round(cy + 5) * t.image.width + Math.round(cx + 100)]!;
    expect(Math.abs(original - turned)).toBeLessThan(60);
  });

  it('clamps boxes that reach outside the photo', () => {
    const img = board(10);
    const t = turn(img, 10);
    const b = boxBack(t, [0, 0, t.image.width, t.image.height], img.width, img.height);
    expect(b).toEqual([0, 0, img.width, img.height]);
  });
});
