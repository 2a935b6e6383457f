/**
 * Issue 15 §4: the watcher takes a finished photo at once (whole by its own format, unchanged for
 * a moment) but never reads one still being written, even when its writer pauses for longer than
 * the time-based stability wait. Real chokidar, real files written in chunks by a child process
 * with pauses; nothing asserts on timing beyond "not before the last byte".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createApp, type App } from '../../main/app/index.ts';
import type { Events } from '../../main/core/contract.ts';
import { jpegIsWhole, photoWholeness, pngIsWhole } from '../../main/services/library/whole-photo.ts';
import { WriteSettler } from '../../main/services/library/write-settle.ts';
import { COLOURS, solidPixels } from '../fixtures/photos.ts';
import { makeHarness, waitFor, type Harness } from './library-helpers.ts';

const SLOW_WRITER = join(import.meta.dirname, '..', 'fixtures', 'slow-writer.mjs');
const HEIC = join(import.meta.dirname, '..', 'fixtures', 'heic');

let h: Harness | null = null;
let app: App | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
  await app?.close();
  app = null;
});

/** A noisy photo (so it is large enough to write in several chunks) in the given format. */
async function photoBytes(format: 'jpeg' | 'png' | 'webp', opts: { progressive?: boolean; rgb?: [number, number, number] } = {}): Promise<Buffer> {
  const [w, hgt] = [320, 240];
  const px = solidPixels(opts.rgb ?? [120, 90, 60], w, hgt, opts.rgb ? 6 : 120);
  const img = sharp(px, { raw: { width: w, height: hgt, channels: 3 } });
  return (format === 'jpeg' ? img.jpeg({ progressive: !!opts.progressive }) : img[format]()).toBuffer();
}

/** A JPEG carrying a whole JPEG thumbnail in an APP1 (EXIF) segment, as cameras write them. */
async function jpegWithThumbnail(): Promise<{ bytes: Buffer; thumbnailEnd: number }> {
  const main = await photoBytes('jpeg');
  const thumb = await sharp(solidPixels([10, 200, 10], 32, 24, 4), { raw: { width: 32, height: 24, channels: 3 } }).jpeg().toBuffer();
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), thumb]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  const bytes = Buffer.concat([main.subarray(0, 2), app1, payload, main.subarray(2)]);
  return { bytes, thumbnailEnd: 2 + 4 + payload.length };
}

/** Runs the slow writer; `onWrote` is called after each chunk and resolves when the file is closed. */
function writeSlowly(source: string, dest: string, chunks: number, pauseMs: number, onWrote: (chunk: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLOW_WRITER, source, dest, String(chunks), String(pauseMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith('wrote ')) onWrote(Number(line.slice(6)));
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`slow writer exited with ${code}`))));
  });
}

describe('whole by its own format', () => {
  for (const [name, make] of [
    ['baseline JPEG', () => photoBytes('jpeg')],
    ['progressive JPEG', () => photoBytes('jpeg', { progressive: true })],
    ['PNG', () => photoBytes('png')],
  ] as const) {
    it(`a ${name} is whole only at its last byte: every shorter prefix is partial`, async () => {
      const bytes = await make();
      const isWhole = name === 'PNG' ? pngIsWhole : jpegIsWhole;
      expect(isWhole(bytes)).toBe(true);
      for (let cut = 1; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 200))) {
        if (isWhole(bytes.subarray(0, cut))) throw new Error(`${name} cut at ${cut} of ${bytes.length} bytes taken as whole`);
      }
      expect(isWhole(bytes.subarray(0, bytes.length - 1))).toBe(false);
    });
  }

  it('a JPEG cut right after its EXIF thumbnail ends with an end marker but is partial', async () => {
    const { bytes, thumbnailEnd } = await jpegWithThumbnail();
    const cut = bytes.subarray(0, thumbnailEnd);
    // The trap: a tail check (…FF D9) would take this as a finished photo.
    expect([cut[cut.length - 2], cut[cut.length - 1]]).toEqual([0xff, 0xd9]);
    expect(jpegIsWhole(cut)).toBe(false);
    expect(jpegIsWhole(bytes)).toBe(true);
    expect((await sharp(bytes).metadata()).width).toBe(320); // and it is a real, readable photo
  });

  it('files on disk: JPEG, PNG, WebP and HEIC whole or partial; formats without an end are unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leanlens-whole-'));
    try {
      const check = async (name: string, bytes: Buffer) => {
        const p = join(dir, name);
        await writeFile(p, bytes);
        return photoWholeness(p, bytes.length);
      };
      for (const format of ['jpeg', 'png', 'webp'] as const) {
        const bytes = await photoBytes(format);
        expect(await check(`a.${format}`, bytes)).toBe('whole');
        expect(await check(`b.${format}`, bytes.subarray(0, Math.floor(bytes.length * 0.7)))).toBe('partial');
      }
      expect(await check('red.heic', await readFile(join(HEIC, 'red.heic')))).toBe('whole');
      expect(await check('truncated.heic', await readFile(join(HEIC, 'truncated.heic')))).toBe('partial');
      const gif = await sharp(solidPixels([1, 2, 3], 8, 8), { raw: { width: 8, height: 8, channels: 3 } }).gif().toBuffer();
      expect(await check('c.gif', gif)).toBe('unknown');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('settling a written file', () => {
  it('a whole photo is taken without waiting out the stability time; a partial one is not, an unknown format is after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leanlens-settle-'));
    const settled: string[] = [];
    // A stability time of 1.5 s and a partial wait far beyond the test.
    const settler = new WriteSettler({ quickMs: 100, stabilityMs: 1500, partialMs: 600_000, pollMs: 20, onSettled: (p) => settled.push(p) });
    try {
      const bytes = await photoBytes('jpeg');
      const [whole, partial, gif] = ['whole.jpg', 'partial.jpg', 'still.gif'].map((f) => join(dir, f)) as [string, string, string];
      await writeFile(whole, bytes);
      await writeFile(partial, bytes.subarray(0, bytes.length - 100));
      await writeFile(gif, await sharp(solidPixels([1, 2, 3], 8, 8), { raw: { width: 8, height: 8, channels: 3 } }).gif().toBuffer());
      const start = Date.now();
      for (const p of [whole, partial, gif]) settler.touch(p);
      await waitFor(() => settled.includes(whole), 'the whole photo to settle');
      expect(settled).toEqual([whole]);
      expect(Date.now() - start).toBeLessThan(1500); // before the stability time: the format said it was whole
      await waitFor(() => settled.includes(gif), 'the GIF to settle after the stability time');
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toEqual([whole, gif]);
    } finally {
      settler.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a photo written slowly into a watched folder', () => {
  /** A watched library folder and, beside it, a whole JPEG for a slow writer to copy from. */
  async function watchWithSource() {
    h = await makeHarness({ watchStabilityMs: 200, batchDelayMs: 50 });
    await h.library.addFolder(h.photos);
    await h.library.watch();
    const source = join(h.dir, 'source.jpg');
    const bytes = await photoBytes('jpeg');
    await writeFile(source, bytes);
    return { harness: h, source, bytes };
  }

  it('(library) is read only once whole, although its writer pauses longer than the stability time', async () => {
    const { harness, source, bytes } = await watchWithSource();
    const dest = join(harness.photos, 'arriving.jpg');
    let seenEarly = false;
    const probe = setInterval(() => {
      if (harness.row(dest)) seenEarly = true;
    }, 10);
    try {
      // Pauses of 500 ms: more than the 200 ms a size must hold still, so only the format check
      // keeps the watcher from reading it (the old awaitWriteFinish alone would have).
      await writeSlowly(source, dest, 6, 500, () => {
        if (harness.row(dest)) seenEarly = true;
      });
    } finally {
      clearInterval(probe);
    }
    expect(seenEarly).toBe(false);
    await waitFor(() => !!harness.row(dest), 'the finished photo');
    expect(harness.row(dest)!.size).toBe(bytes.length);
    expect(harness.errors).toEqual([]);
  }, 60_000);

  it('(library) in a folder moved in while it is written is left out of that folder\'s scan until whole', async () => {
    const { harness, source, bytes } = await watchWithSource();
    // A folder moved in is scanned as a whole when its event comes: here it holds a whole photo
    // and one whose writer keeps its file open and goes on writing after the move.
    const staged = join(harness.dir, 'Trip');
    await mkdir(staged);
    await writeFile(join(staged, 'whole.jpg'), bytes);
    const trip = join(harness.photos, 'Trip');
    const dest = join(trip, 'arriving.jpg');
    let moved: Promise<void> | null = null;
    let seenEarly = false;
    await writeSlowly(source, join(staged, 'arriving.jpg'), 5, 500, (chunk) => {
      if (chunk === 1) moved = rename(staged, trip);
      if (harness.row(dest)) seenEarly = true;
    });
    await moved;
    expect(harness.row(join(trip, 'whole.jpg'))).toBeTruthy(); // the folder was scanned meanwhile
    expect(seenEarly).toBe(false);
    await waitFor(() => !!harness.row(dest), 'the finished photo');
    expect(harness.row(dest)!.size).toBe(bytes.length);
    expect(harness.errors).toEqual([]);
  }, 60_000);

  it('(app) no failure and no partial encoding is recorded; the photo is added once, never re-read, and found', async () => {
    const root = mkdtempSync(join(tmpdir(), 'leanlens-slow-app-'));
    try {
      const photos = join(root, 'Photos');
      app = await createApp({ dataDir: join(root, 'data'), live: true });
      await mkdir(photos);
      await app['folders.add']({ path: photos });
      const changes: Events['library.changed'][] = [];
      app.on('library.changed', (c) => changes.push(c));
      const source = join(root, 'green.jpg');
      await writeFile(source, await photoBytes('jpeg', { rgb: COLOURS.green! }));
      const dest = join(photos, 'green arriving.jpg');
      const live = app;
      let seenEarly = false;
      // The app's stability time is 1 s: pauses of 1.3 s would have had it read half a photo.
      await writeSlowly(source, dest, 4, 1300, () => {
        if (live.photoIdByPath(dest) !== null) seenEarly = true;
      });
      expect(seenEarly).toBe(false);
      const hit = await waitForAsync(async () => (await live['search.text']({ text: 'green', limit: 5, relevance: 'all' })).hits.find((x) => x.photo.path === dest));
      expect(hit.score).toBeGreaterThan(0.9); // the whole green photo was encoded, not a grey half
      expect(await live['index.failures']({})).toEqual([]);
      const id = hit.photo.id;
      // Never changed after it was added: a partial read would have been followed by a re-read.
      expect(changes.filter((c) => c.changed.includes(id))).toEqual([]);
      expect((await live['photos.get']({ id })).status).toBe('indexed');
    } finally {
      await app?.close();
      app = null;
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);
});

async function waitForAsync<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
