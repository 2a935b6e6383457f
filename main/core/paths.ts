/**
 * The one rule for "is this path inside that folder", used wherever a path from a request, a
 * database row or a symlink must not lead out of its root: the library's folder filters, photo
 * files served by id, the server's static files and the desktop app's `app://` files. Pure: the
 * caller resolves symlinks (with `realInside`) when the file system is involved.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** macOS and Windows volumes are case-insensitive by default; Linux file systems are not. */
const CASE_INSENSITIVE_FS = process.platform === 'darwin' || process.platform === 'win32';

export interface InsideOptions {
  /** Compare ignoring case; defaults to the platform's usual file system. */
  caseInsensitive?: boolean;
  /** Whether `child === parent` counts as inside (default true: a folder contains itself). */
  allowSame?: boolean;
}

/**
 * True when `child` is `parent` or lies beneath it, component-aware: `/a/bc` is not inside `/a/b`,
 * `/a/..foo` is inside `/a`, `/a/../x` is not; trailing separators do not matter.
 */
export function isInside(child: string, parent: string, opts: InsideOptions = {}): boolean {
  let c = resolve(child);
  let p = resolve(parent);
  if (opts.caseInsensitive ?? CASE_INSENSITIVE_FS) {
    c = c.toLowerCase();
    p = p.toLowerCase();
  }
  if (c === p) return opts.allowSame ?? true;
  const rel = relative(p, c);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * `path` with symlinks resolved, when it stays inside `root` (symlinks resolved too); null when it
 * does not exist or leads outside. `realpath` is passed in so this module does no I/O itself.
 */
export async function realInside(
  path: string,
  root: string,
  realpath: (p: string) => Promise<string>,
  opts: InsideOptions = {},
): Promise<string | null> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(path), realpath(root)]);
  } catch {
    return null;
  }
  return isInside(real, realRoot, opts) ? real : null;
}
