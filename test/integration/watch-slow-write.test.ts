/**
 * Issue 15 §4: the watcher takes a finished photo quickly (complete by its own format and not
 * growing) but never reads one still being written, even when its writer pauses for longer than
 * the quick window. Real chokidar, real files written in chunks with pauses; nothing asserts on
 * timing beyond "not before the last byte".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { looksComplete, WriteSettler } from '../../main/services/library/write-settle.ts';
import { makeHarness, waitFor, type Harness } from './library-helpers.ts';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** A noisy photo (so it is large enough to write in several chunks) in the given format. */
async function photoBytes(format: 'jpeg' | 'png' | 'webp'): Promise<Buffer> {
  const w = 320;
  const hgt = 240;
  const px = Buffer.alloc(w * hgt * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  return sharp(px, { raw: { width: w, height: hgt, channels: 3 } })[format]().toBuffer();
}

describe('writes in progress', () => {
  for (const format of ['jpeg', 'png', 'webp'] as const) {
    it(`a ${format} is complete by its format only when whole`, async () => {
      h = await makeHarness();
      const bytes = await photoBytes(format);
      const p = join(h.dir, `x.${format}`);
      await writeFile(p, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
      expect(await looksComplete(p, Math.floor(bytes.length * 0.7))).toBe(false);
      await writeFile(p, bytes);
      expect(await looksComplete(p, bytes.length)).toBe(true);
    });
  }

  it('a photo written slowly, with pauses longer than the quick window, is read only once whole', async () => {
    h = await makeHarness({ watchStabilityMs: 1500, batchDelayMs: 50 });
    await h.library.addFolder(h.photos);
    await h.library.watch();
    const bytes = await photoBytes('jpeg');
    const dest = join(h.photos, 'arriving.jpg');
    const chunks = 6;
    const fh = await open(dest, 'w');
    let seenEarly = false;
    const probe = setInterval(() => {
      if (h.row(dest)) seenEarly = true;
    }, 10);
    try {
      for (let c = 0; c < chunks; c++) {
        const from = Math.floor((c * bytes.length) / chunks);
        const to = Math.floor(((c + 1) * bytes.length) / chunks);
        await fh.write(bytes, from, to - from, from);
        await fh.sync();
        // Longer than the quick window (100 ms), shorter than the stability time.
        if (c < chunks - 1) await new Promise((r) => setTimeout(r, 400));
        if (h.row(dest)) seenEarly = true;
      }
    } finally {
      await fh.close();
    }
    clearInterval(probe);
    expect(seenEarly).toBe(false);
    await waitFor(() => !!h.row(dest), 'the finished photo');
    expect(h.row(dest)!.size).toBe(bytes.length);
    expect(h.errors).toEqual([]);
  }, 60_000);

  it('a whole photo is taken without waiting out the stability time; a partial one is not', async () => {
    h = await makeHarness();
    const settled: string[] = [];
    // A stability time far beyond the test: only the quick path can settle anything here.
    const settler = new WriteSettler({ quickMs: 100, stabilityMs: 600_000, pollMs: 20, onSettled: (p) => settled.push(p) });
    const bytes = await photoBytes('jpeg');
    const whole = join(h.dir, 'whole.jpg');
    const partial = join(h.dir, 'partial.jpg');
    await writeFile(whole, bytes);
    await writeFile(partial, bytes.subarray(0, bytes.length - 100));
    settler.touch(whole);
    settler.touch(partial);
    await waitFor(() => settled.includes(whole), 'the whole photo to settle');
    await new Promise((r) => setTimeout(r, 1000));
    settler.close();
    expect(settled).toEqual([whole]);
  });
});
