/**
 * HEIC/HEIF photos (HEVC inside HEIF, what iPhones write): sharp's bundled libvips reads their
 * header and EXIF but has no HEVC decoder, so the pixels come from libheif compiled to
 * WebAssembly, in worker threads (a 12 MP photo is seconds of synchronous WebAssembly on a slow
 * core; on the main thread it would freeze the app). The pixels are handed back as raw RGBA, to
 * which the caller applies the same sharp pipeline as every other photo.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../workers/index.ts';
import { MediaError } from './errors.ts';
import type { HeicRequest, HeicResponse } from './heic-protocol.ts';

export interface DecodedHeic {
  width: number;
  height: number;
  /** Interleaved RGBA, 8 bits per channel, rows without padding; already upright (irot/imir applied). */
  rgba: Buffer;
  premultiplied: boolean;
}

/** Worker threads kept for decoding: each holds its own WebAssembly heap (≈ 150 MB after a 12 MP photo). */
const MAX_WORKERS = Math.max(1, Math.min(2, availableParallelism()));
/** A worker idle this long is stopped, which gives its heap back (WebAssembly memory never shrinks). */
const IDLE_MS = 15_000;

interface Slot {
  worker: Worker;
  busy: Job | null;
  idleTimer: NodeJS.Timeout | null;
}
interface Job {
  req: HeicRequest;
  transfer: ArrayBuffer[];
  label: string | null;
  resolve: (r: DecodedHeic) => void;
  reject: (e: Error) => void;
}

const slots: Slot[] = [];
const queue: Job[] = [];
let nextId = 1;
/** Resolved when nothing is queued or decoding (stopHeicDecoders waits on it). */
let drainWaiters: (() => void)[] = [];

function startWorker(): Slot {
  const entry = workerEntry(import.meta.url, 'heic-worker');
  const worker = new Worker(entry.file, { workerData: { script: entry.script } });
  // Never keeps a CLI run alive; a job in flight holds its own promise, not the process.
  worker.unref();
  const slot: Slot = { worker, busy: null, idleTimer: null };
  worker.on('message', (res: HeicResponse) => {
    const job = slot.busy;
    slot.busy = null;
    if (!res.ok && res.restart) {
      // One bad photo must not fail the next good ones in a broken decoder: replace the worker.
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      void worker.terminate();
    }
    if (job && job.req.id === res.id) settle(job, res);
    pump();
  });
  const died = (reason: string) => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    const job = slot.busy;
    slot.busy = null;
    // The photo being decoded when the decoder died is the likeliest cause: report it, keep the rest.
    if (job) job.reject(new MediaError('corrupt', `not a readable image: the HEIC decoder stopped while reading it (${reason})`, job.label));
    pump();
  };
  worker.on('error', (err) => died(err.message));
  worker.on('exit', (code) => died(`exit code ${code}`));
  slots.push(slot);
  return slot;
}

function settle(job: Job, res: HeicResponse): void {
  if (res.ok) {
    job.resolve({ width: res.width, height: res.height, premultiplied: res.premultiplied, rgba: Buffer.from(res.pixels) });
    return;
  }
  if (res.kind === 'too-large') {
    const mp = Math.round(job.req.maxPixels / 1e6);
    job.reject(new MediaError('too-large', `the image is too large to open (more than ${mp} megapixels: ${res.error})`, job.label));
  } else if (res.kind === 'fs') {
    // Same wording as other photos: let the shared classifier see the errno.
    job.reject(Object.assign(new Error(res.error), { code: res.fsCode }));
  } else {
    job.reject(new MediaError('corrupt', `not a readable image: the HEIC data is damaged or incomplete (${res.error})`, job.label));
  }
}

function pump(): void {
  while (queue.length) {
    let slot = slots.find((s) => !s.busy);
    if (!slot && slots.length < MAX_WORKERS) slot = startWorker();
    if (!slot) return;
    const job = queue.shift()!;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.busy = job;
    slot.worker.postMessage(job.req, job.transfer);
  }
  if (!queue.length && !slots.some((s) => s.busy) && drainWaiters.length) {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const w of waiters) w();
  }
  for (const slot of slots) {
    if (slot.busy || slot.idleTimer) continue;
    slot.idleTimer = setTimeout(() => {
      if (!slot.busy) void slot.worker.terminate();
    }, IDLE_MS);
    slot.idleTimer.unref();
  }
}

function submit(req: Omit<HeicRequest, 'id'>, transfer: ArrayBuffer[], label: string | null): Promise<DecodedHeic> {
  return new Promise((resolve, reject) => {
    queue.push({ req: { ...req, id: nextId++ }, transfer, label, resolve, reject });
    pump();
  });
}

/** Decode a HEIC/HEIF file's primary image to upright RGBA, off the main thread. */
export function decodeHeicFile(path: string, maxPixels: number): Promise<DecodedHeic> {
  return submit({ path, data: null, maxPixels }, [], path);
}

/** Same for bytes in memory (a photo dropped on the search box). The buffer is copied, not taken. */
export function decodeHeicBuffer(data: Buffer, maxPixels: number): Promise<DecodedHeic> {
  const copy = new Uint8Array(data).buffer;
  return submit({ path: null, data: copy, maxPixels }, [copy], null);
}

/**
 * Stop the decoder workers (tests, shutdown) once the photos already asked for are decoded, so no
 * photo is reported unreadable because the app was closing; the next decode starts fresh workers.
 */
export async function stopHeicDecoders(): Promise<void> {
  if (queue.length || slots.some((s) => s.busy)) await new Promise<void>((resolve) => drainWaiters.push(resolve));
  await Promise.all(
    slots.splice(0).map((s) => {
      if (s.idleTimer) clearTimeout(s.idleTimer);
      return s.worker.terminate();
    }),
  );
}
