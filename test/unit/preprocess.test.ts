import { describe, expect, it } from 'vitest';
import {
  centreCropBox,
  coverTarget,
  cropInterleaved,
  resizePlan,
  roundHalfEven,
  shortestSideTarget,
  toClipTensor,
} from '../../main/core/preprocess.ts';

const MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

describe('toClipTensor', () => {
  it('normalises a single pixel by hand-computed values', () => {
    const t = toClipTensor(new Uint8Array([255, 0, 128]), 1, 1, MEAN, STD);
    expect(t).toHaveLength(3);
    expect(t[0]).toBeCloseTo((1 - 0.48145466) / 0.26862954, 5); // 1.93033
    expect(t[1]).toBeCloseTo((0 - 0.4578275) / 0.26130258, 5); // -1.75209
    expect(t[2]).toBeCloseTo((128 / 255 - 0.40821073) / 0.27577711, 5);
    expect(t[0]).toBeCloseTo(1.9303, 3);
  });

  it('lays channels out as planes (CHW), row-major within a plane', () => {
    // 2x2 image: pixel (x,y) has R = 10*x + y, G = 100, B = 200 + x.
    const w = 2;
    const h = 2;
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) rgb.set([10 * x + y, 100, 200 + x], (y * w + x) * 3);
    const identity: [number, number, number] = [0, 0, 0];
    const unit: [number, number, number] = [1 / 255, 1 / 255, 1 / 255];
    const t = toClipTensor(rgb, w, h, identity, unit); // (v/255)/(1/255) = v
    expect(Array.from(t).map((v) => Math.round(v))).toEqual([0, 10, 1, 11, 100, 100, 100, 100, 200, 201, 200, 201]);
  });

  it('writes into a batch buffer at an offset without touching the rest', () => {
    const batch = new Float32Array(2 * 3 * 4).fill(99);
    const rgb = new Uint8Array(4 * 3).fill(255);
    toClipTensor(rgb, 2, 2, MEAN, STD, batch, 12);
    expect(Array.from(batch.subarray(0, 12)).every((v) => v === 99)).toBe(true);
    expect(batch[12]).toBeCloseTo((1 - MEAN[0]) / STD[0], 5);
    expect(batch[23]).toBeCloseTo((1 - MEAN[2]) / STD[2], 5);
  });

  it('rejects buffers of the wrong size', () => {
    expect(() => toClipTensor(new Uint8Array(5), 1, 2, MEAN, STD)).toThrow(RangeError);
    expect(() => toClipTensor(new Uint8Array(3), 1, 1, MEAN, STD, new Float32Array(3), 1)).toThrow(RangeError);
    expect(() => toClipTensor(new Uint8Array(0), 0, 0, MEAN, STD)).toThrow(RangeError);
  });
});

describe('resize and crop geometry', () => {
  it('resizes the shorter side to the target size', () => {
    expect(shortestSideTarget(640, 480, 224)).toEqual({ width: 298, height: 224 }); // floor(224*640/480)=298
    expect(shortestSideTarget(480, 640, 224)).toEqual({ width: 224, height: 298 });
    expect(shortestSideTarget(100, 100, 224)).toEqual({ width: 224, height: 224 });
    expect(shortestSideTarget(10000, 10, 224)).toEqual({ width: 224000, height: 224 });
  });

  it('centres the crop box', () => {
    expect(centreCropBox(298, 224, 224)).toEqual({ left: 37, top: 0, width: 224, height: 224 });
    expect(centreCropBox(224, 300, 224)).toEqual({ left: 0, top: 38, width: 224, height: 224 });
    expect(centreCropBox(224, 224, 224)).toEqual({ left: 0, top: 0, width: 224, height: 224 });
    expect(() => centreCropBox(100, 300, 224)).toThrow(RangeError);
  });
});

// Expected values below were printed by the reference recipes in
// test/fixtures/preprocess/make_reference.py (torchvision's and Ente's rounding), not derived here.
describe('per-model resize and crop rounding', () => {
  it('rounds halves to even like Python, which torchvision CenterCrop uses', () => {
    expect([0.5, 1.5, 2.5, 3.5, 37, 36.5, -0.5].map(roundHalfEven)).toEqual([0, 2, 2, 4, 37, 36, -0]);
    // A 224x229 photo: torchvision does not resize it (short side already 224) and crops from
    // round(2.5) = 2, where Math.round would say 3.
    expect(centreCropBox(224, 229, 224)).toEqual({ left: 0, top: 2, width: 224, height: 224 });
    expect(centreCropBox(225, 224, 224).left).toBe(0);
    expect(centreCropBox(227, 224, 224).left).toBe(2);
  });

  it("'shortest' (OpenAI CLIP) matches torchvision on real photo shapes", () => {
    const cases: Array<[number, number, [number, number], [number, number]]> = [
      [640, 427, [335, 224], [56, 0]],
      [427, 640, [224, 335], [0, 56]],
      [227, 300, [224, 296], [0, 36]],
      [229, 300, [224, 293], [0, 34]],
      [40, 30, [298, 224], [37, 0]], // upscaled
      [1000, 999, [224, 224], [0, 0]],
      [257, 1000, [224, 871], [0, 324]],
      [224, 229, [224, 229], [0, 2]],
    ];
    for (const [w, h, resized, offset] of cases) {
      const plan = resizePlan(w, h, { size: 224, resize: 'shortest' });
      expect([plan.resize.width, plan.resize.height, plan.crop.left, plan.crop.top], `${w}x${h}`).toEqual([...resized, ...offset]);
      expect(plan.crop).toMatchObject({ width: 224, height: 224 });
    }
  });

  it("'cover' (MobileCLIP, Ente) rounds the long side to nearest and floors the crop offset", () => {
    const cases: Array<[number, number, [number, number], [number, number]]> = [
      [640, 427, [384, 256], [64, 0]], // 383.7 → 384, where 'shortest' truncates to 383
      [640, 480, [341, 256], [42, 0]], // offset floor(42.5) = 42
      [227, 300, [256, 338], [0, 41]],
      [40, 30, [341, 256], [42, 0]],
      [513, 512, [257, 256], [0, 0]], // 256.5 rounds up (half away from zero)
      [257, 1000, [256, 996], [0, 370]],
      [3, 1000, [256, 85333], [0, 42538]],
    ];
    for (const [w, h, resized, offset] of cases) {
      const plan = resizePlan(w, h, { size: 256, resize: 'cover' });
      expect([plan.resize.width, plan.resize.height, plan.crop.left, plan.crop.top], `${w}x${h}`).toEqual([...resized, ...offset]);
    }
    expect(coverTarget(513, 512, 256)).toEqual({ width: 257, height: 256 });
    expect(shortestSideTarget(513, 512, 256)).toEqual({ width: 256, height: 256 });
  });

  it("'squash' resizes both sides to the input size and crops nothing", () => {
    expect(resizePlan(640, 427, { size: 224, resize: 'squash' })).toEqual({
      resize: { width: 224, height: 224 },
      crop: { left: 0, top: 0, width: 224, height: 224 },
    });
  });

  it('rejects impossible sizes', () => {
    expect(() => resizePlan(0, 10, { size: 224, resize: 'cover' })).toThrow(RangeError);
    expect(() => resizePlan(10, 0, { size: 224, resize: 'squash' })).toThrow(RangeError);
  });
});

describe('cropInterleaved', () => {
  it('copies the window row by row, every channel of each pixel', () => {
    // 4x3 RGB where each byte says where it came from: 100·y + 10·x + channel.
    const w = 4;
    const h = 3;
    const px = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = 100 * y + 10 * x + c;
    const out = cropInterleaved(px, w, h, { left: 1, top: 1, width: 2, height: 2 });
    expect([...out]).toEqual([110, 111, 112, 120, 121, 122, 210, 211, 212, 220, 221, 222]);
    // The whole image is a copy, not the same array.
    const all = cropInterleaved(px, w, h, { left: 0, top: 0, width: w, height: h });
    expect([...all]).toEqual([...px]);
    expect(all).not.toBe(px);
  });

  it('rejects a window outside the image or a wrong byte count', () => {
    const px = new Uint8Array(4 * 3 * 3);
    expect(() => cropInterleaved(px, 4, 3, { left: 3, top: 0, width: 2, height: 1 })).toThrow(RangeError);
    expect(() => cropInterleaved(px, 4, 3, { left: 0, top: 2, width: 1, height: 2 })).toThrow(RangeError);
    expect(() => cropInterleaved(px, 4, 3, { left: -1, top: 0, width: 1, height: 1 })).toThrow(RangeError);
    expect(() => cropInterleaved(px, 4, 3, { left: 0, top: 0, width: 0, height: 1 })).toThrow(RangeError);
    expect(() => cropInterleaved(px, 4, 4, { left: 0, top: 0, width: 1, height: 1 })).toThrow(RangeError);
  });
});
