/**
 * Seeded random numbers for generated weights: the same seed gives the same model bytes on every
 * machine, which is what lets tests compare sha256 sums of generated files.
 */

/** mulberry32: a tiny 32-bit generator; plenty for weight init, not for anything secret. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where layer weights come from: seeded normals, or zeros for shape-only builds. */
export interface WeightSource {
  normals(count: number, std: number): Float32Array;
}

/** All-zero weights: builds a graph of the real shape in a blink (for shape and size checks). */
export const ZERO_WEIGHTS: WeightSource = { normals: (count) => new Float32Array(count) };

export class SeededRandom implements WeightSource {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1); the same sequence as mulberry32(seed). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal via Box–Muller (both values of each pair are used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.uniform(); // (0, 1], so log is finite
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `count` values from N(0, std²); the same values as `count` calls of normal(), only faster. */
  normals(count: number, std: number): Float32Array {
    const out = new Float32Array(count);
    let i = 0;
    if (this.spare !== null && count > 0) out[i++] = this.normal() * std;
    // Hot loop for 100M-parameter models: pairs written directly, no per-value call.
    for (; i + 1 < count; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.uniform())) * std;
      const angle = 2 * Math.PI * this.uniform();
      out[i] = r * Math.cos(angle);
      out[i + 1] = r * Math.sin(angle);
    }
    if (i < count) out[i] = this.normal() * std;
    return out;
  }
}
