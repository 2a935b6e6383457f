/**
 * When a file being copied into a watched folder is finished, so it is read once, whole, and soon.
 *
 * chokidar's awaitWriteFinish waits for the size to hold still for a fixed time (1 s here), which
 * was most of the delay before a new photo became searchable (issue 15 §4). Most photos say
 * themselves when they are whole — a JPEG ends with its EOI marker, a PNG with its IEND chunk, a
 * WebP's RIFF header gives its length — so a file that is complete by its own format and has not
 * grown for `quickMs` is taken at once; anything else (a half-written JPEG whose writer paused,
 * or a format without such an end) still waits the full `stabilityMs`.
 */
import { open, stat } from 'node:fs/promises';

export interface WriteSettlerOptions {
  /** Unchanged this long and complete by its format: written. */
  quickMs: number;
  /** Unchanged this long: written, whatever it looks like. */
  stabilityMs: number;
  pollMs: number;
  onSettled: (path: string) => void;
}

interface Tracked {
  size: number;
  mtimeMs: number;
  since: number;
  timer: NodeJS.Timeout | null;
}

export class WriteSettler {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly opts: WriteSettlerOptions) {}

  /** The file was added or changed: (re)start waiting for it to be written. */
  touch(path: string): void {
    const t = this.tracked.get(path);
    if (t) {
      t.since = Date.now();
      return;
    }
    const entry: Tracked = { size: -1, mtimeMs: -1, since: Date.now(), timer: null };
    this.tracked.set(path, entry);
    this.schedule(path, entry);
  }

  /** The file is gone (or the watcher closes): stop waiting for it. */
  forget(path: string): void {
    const t = this.tracked.get(path);
    if (t?.timer) clearTimeout(t.timer);
    this.tracked.delete(path);
  }

  close(): void {
    for (const path of [...this.tracked.keys()]) this.forget(path);
  }

  private schedule(path: string, t: Tracked): void {
    t.timer = setTimeout(() => void this.poll(path, t), this.opts.pollMs);
  }

  private async poll(path: string, t: Tracked): Promise<void> {
    t.timer = null;
    let size: number;
    let mtimeMs: number;
    try {
      ({ size, mtimeMs } = await stat(path));
    } catch {
      return this.forget(path); // gone: its unlink event says so
    }
    if (this.tracked.get(path) !== t) return;
    const now = Date.now();
    if (size !== t.size || mtimeMs !== t.mtimeMs) {
      t.size = size;
      t.mtimeMs = mtimeMs;
      t.since = now;
    } else {
      const since = t.since;
      const held = now - since;
      if (held >= this.opts.stabilityMs || (held >= this.opts.quickMs && (await looksComplete(path, size)))) {
        // Touched again while the end was being read: keep waiting.
        if (this.tracked.get(path) !== t) return;
        if (t.since !== since) return this.schedule(path, t);
        this.tracked.delete(path);
        return this.opts.onSettled(path);
      }
    }
    if (this.tracked.get(path) === t) this.schedule(path, t);
  }
}

const PNG_END = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** Whether a photo file of `size` bytes ends where its own format says it ends (JPEG, PNG, WebP). */
export async function looksComplete(path: string, size: number): Promise<boolean> {
  if (size < 16) return false;
  let fh;
  try {
    fh = await open(path, 'r');
    const head = Buffer.alloc(12);
    const tail = Buffer.alloc(8);
    await fh.read(head, 0, 12, 0);
    await fh.read(tail, 0, 8, size - 8);
    if (head[0] === 0xff && head[1] === 0xd8) return tail[6] === 0xff && tail[7] === 0xd9;
    if (head.readUInt32BE(0) === 0x89504e47) return tail.equals(PNG_END);
    if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') {
      const riff = head.readUInt32LE(4) + 8;
      return size === riff || size === riff + 1;
    }
    return false;
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}
