/**
 * Size-limited tmpfs folders for the disk-full tests (issue 15 §3). Mounting needs root (or
 * CAP_SYS_ADMIN); where it is not allowed the tests skip and say why, once, in their name and on
 * stderr. Every mount is unmounted in the tests' afterAll, whether they passed or not.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Null when a tmpfs can be mounted here, else why not (checked by mounting a small one). */
export function whyNoTmpfs(): string | null {
  if (process.platform !== 'linux') return `tmpfs mounts are a Linux test (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a size-limited tmpfs needs root (run the tests as root to include them)';
  const probe = mkdtempSync(join(tmpdir(), 'leanlens-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return null;
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    return `mount -t tmpfs is not permitted here (${stderr || (err as Error).message})`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `bytes` at `dir` (created). */
export function mountTmpfs(dir: string, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** Unmounts, lazily if something still holds a file open there (a child killed a moment ago). */
export function unmountTmpfs(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      // not mounted (the mount itself failed)
    }
  }
}

export function freeBytesOf(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Fills the disk under `dir` with one file until only about `spare` bytes are free; returns its path. */
export function fillDisk(dir: string, spare: number): string {
  const filler = join(dir, 'filler.bin');
  const take = freeBytesOf(dir) - spare;
  if (take > 0) writeFileSync(filler, Buffer.alloc(take));
  return filler;
}
