import { describe, expect, it } from 'vitest';
import { resampleCrop } from '../../main/services/media/resample.ts';

/** One row of RGB pixels. */
function row(pixels: Array<[number, number, number]>): Uint8Array {
  return new Uint8Array(pixels.flat());
}
function channel(rgb: Uint8Array, c: number): number[] {
  return Array.from(rgb.filter((_, i) => i % 3 === c));
}

// Expected values printed by Pillow 9.4 (Image.resize) for the same inputs; the integration test
// test/integration/preprocess-parity.test.ts checks whole photos against Pillow bit for bit.
describe('resampleCrop (Pillow convolution resampling)', () => {
  const step = row([[0, 10, 200], [0, 10, 200], [255, 250, 0], [255, 250, 0]]);

  it('enlarges like Pillow BICUBIC, overshoot clipped included', () => {
    const out = resampleCrop(step, 4, 1, 8, 1, { left: 0, top: 0, width: 8, height: 1 }, 'bicubic');
    expect(channel(out, 0)).toEqual([0, 0, 0, 52, 203, 255, 255, 255]);
    expect(channel(out, 2)).toEqual([200, 204, 214, 159, 41, 0, 0, 0]); // the cubic's ringing above 200
  });

  it('enlarges like Pillow BILINEAR', () => {
    const out = resampleCrop(step, 4, 1, 8, 1, { left: 0, top: 0, width: 8, height: 1 }, 'bilinear');
    expect(channel(out, 0)).toEqual([0, 0, 0, 64, 191, 255, 255, 255]);
    expect(channel(out, 2)).toEqual([200, 200, 200, 150, 50, 0, 0, 0]);
  });

  it('shrinks with the support widened by the scale (antialiasing), like Pillow', () => {
    const twoSteps = row([[0, 0, 0], [0, 0, 0], [255, 0, 0], [255, 0, 0], [0, 0, 0], [0, 0, 0], [255, 0, 0], [255, 0, 0]]);
    const cubic = resampleCrop(twoSteps, 8, 1, 3, 1, { left: 0, top: 0, width: 3, height: 1 }, 'bicubic');
    const linear = resampleCrop(twoSteps, 8, 1, 3, 1, { left: 0, top: 0, width: 3, height: 1 }, 'bilinear');
    expect(channel(cubic, 0)).toEqual([82, 127, 173]);
    expect(channel(linear, 0)).toEqual([81, 128, 174]);
  });

  it('computes a crop window equal to the same window of the full result, in both axes', () => {
    const w = 9;
    const h = 7;
    const src = new Uint8Array(w * h * 3).map((_, i) => (i * 97 + 13) % 256);
    const full = resampleCrop(src, w, h, 20, 16, { left: 0, top: 0, width: 20, height: 16 }, 'bicubic');
    const part = resampleCrop(src, w, h, 20, 16, { left: 5, top: 3, width: 8, height: 10 }, 'bicubic');
    for (let y = 0; y < 10; y++) {
      expect(Array.from(part.subarray(y * 24, y * 24 + 24))).toEqual(Array.from(full.subarray(((3 + y) * 20 + 5) * 3, ((3 + y) * 20 + 13) * 3)));
    }
  });

  it('leaves an axis whose size does not change untouched', () => {
    const src = new Uint8Array(5 * 2 * 3).map((_, i) => i * 8);
    const out = resampleCrop(src, 5, 2, 5, 6, { left: 1, top: 0, width: 3, height: 6 }, 'bilinear');
    // Column 1 of the source, first row values, appear unfiltered horizontally.
    expect(Array.from(out.subarray(0, 3))).toEqual([24, 32, 40]);
    const same = resampleCrop(src, 5, 2, 5, 2, { left: 0, top: 0, width: 5, height: 2 }, 'bicubic');
    expect(Array.from(same)).toEqual(Array.from(src));
  });

  it('refuses a wrong buffer size or a crop outside the result', () => {
    expect(() => resampleCrop(new Uint8Array(5), 2, 1, 4, 2, { left: 0, top: 0, width: 4, height: 2 }, 'bicubic')).toThrow(RangeError);
    expect(() => resampleCrop(new Uint8Array(6), 2, 1, 4, 2, { left: 1, top: 0, width: 4, height: 2 }, 'bicubic')).toThrow(RangeError);
  });
});
