/**
 * Justified rows (the layout of Google Photos, Flickr, Immich): photos keep their aspect ratio, each
 * row is scaled to fill the width exactly, and no row is taller than the target height. The last
 * row of a group is not stretched (a lone photo would otherwise fill the screen).
 */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface JustifyOptions {
  /** Target (and largest) row height, px. */
  rowHeight: number;
  gap: number;
}

/** Aspect ratios clamped so a 1-px-high banner or a broken size cannot make a row vanish or explode. */
export function clampAspect(a: number): number {
  return Number.isFinite(a) && a > 0 ? Math.min(6, Math.max(0.25, a)) : 1;
}

/**
 * Lays `aspects` (width / height) into rows `width` px wide, starting at `top`; writes each box as
 * x, y, w, h into `out` at `4 * (offset + i)` (one flat array for 100,000 photos, no objects) and
 * returns the y just below the last row.
 */
export function justifyInto(aspects: ArrayLike<number>, width: number, opts: JustifyOptions, top: number, out: Float64Array, offset: number): number {
  const { rowHeight, gap } = opts;
  let y = top;
  let rowStart = 0;
  let sum = 0;
  const place = (from: number, to: number, h: number) => {
    let x = 0;
    for (let i = from; i < to; i++) {
      const w = clampAspect(aspects[i]!) * h;
      const o = 4 * (offset + i);
      out[o] = x;
      out[o + 1] = y;
      out[o + 2] = w;
      out[o + 3] = h;
      x += w + gap;
    }
    y += h + gap;
  };
  for (let i = 0; i < aspects.length; i++) {
    sum += clampAspect(aspects[i]!);
    const n = i - rowStart + 1;
    const free = width - gap * (n - 1);
    if (sum * rowHeight >= free) {
      place(rowStart, i + 1, Math.max(1, free / sum));
      rowStart = i + 1;
      sum = 0;
    }
  }
  if (rowStart < aspects.length) place(rowStart, aspects.length, rowHeight);
  return aspects.length ? y - gap : top;
}

/** The same for one group, as objects: for tests and small uses. */
export function justify(aspects: number[], width: number, opts: JustifyOptions): { boxes: Box[]; height: number } {
  const out = new Float64Array(aspects.length * 4);
  const height = justifyInto(aspects, width, opts, 0, out, 0);
  const boxes: Box[] = [];
  for (let i = 0; i < aspects.length; i++) boxes.push({ x: out[4 * i]!, y: out[4 * i + 1]!, w: out[4 * i + 2]!, h: out[4 * i + 3]! });
  return { boxes, height };
}
