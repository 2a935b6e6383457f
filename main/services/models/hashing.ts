/**
 * sha256 of model files, with a persistent cache keyed by (path, size, mtime) so start-up
 * does not re-read hundreds of megabytes each time; any change to the file invalidates it.
 */
import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeJsonAtomic } from './manifest.ts';

export function sha256FileSync(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

interface CacheRow {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export class HashCache {
  private rows: Record<string, CacheRow> = {};

  constructor(private file: string | null) {
    if (file) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8'));
        if (parsed && typeof parsed === 'object') this.rows = parsed;
      } catch {
        // No cache yet, or a damaged one: it is only a speed-up, start empty.
      }
    }
  }

  /** The cached hash when the file is unchanged since it was computed, else undefined. */
  peek(path: string): string | undefined {
    const row = this.rows[path];
    if (!row) return undefined;
    try {
      const st = statSync(path);
      return st.size === row.size && st.mtimeMs === row.mtimeMs ? row.sha256 : undefined;
    } catch {
      return undefined;
    }
  }

  /** sha256 of the file, computed only when the cache has nothing valid for it. */
  get(path: string): string {
    const cached = this.peek(path);
    if (cached) return cached;
    const st = statSync(path);
    const sha256 = sha256FileSync(path);
    this.put(path, sha256, st.size, st.mtimeMs);
    return sha256;
  }

  put(path: string, sha256: string, size?: number, mtimeMs?: number): void {
    if (size === undefined || mtimeMs === undefined) {
      const st = statSync(path);
      size = st.size;
      mtimeMs = st.mtimeMs;
    }
    this.rows[path] = { size, mtimeMs, sha256 };
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    try {
      writeJsonAtomic(this.file, this.rows);
    } catch {
      // Read-only data folder: keep the in-memory cache, hashing again next start is harmless.
    }
  }
}
