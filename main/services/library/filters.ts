/**
 * Which paths the library looks at: photo extensions, hidden and system folders, and the
 * paths it is told to ignore (the app's own data folder may sit inside a photo folder).
 */
import { realpathSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { isInside } from '../../core/paths.ts';

// One list of photo extensions for the whole app (media decodes exactly these). From core, not
// from media, so opening the library does not load sharp.
export { isPhotoPath, PHOTO_EXTENSIONS } from '../../core/photo-formats.ts';

/** Folders that operating systems, NAS boxes and viewers fill with copies or trash, never photos to index. */
const SYSTEM_NAMES: ReadonlySet<string> = new Set([
  '$recycle.bin', 'system volume information', '@eadir', '#recycle', '#snapshot', 'lost+found',
  '.trashes', '.trash', '.thumbnails', '.spotlight-v100', '.fseventsd', '.@__thumb',
]);

/** Hidden (dot-prefixed) or system names are skipped, files and folders alike. */
export function isSkippedName(name: string): boolean {
  return name.startsWith('.') || SYSTEM_NAMES.has(name.toLowerCase());
}

export { isInside } from '../../core/paths.ts';

/**
 * True when any component of `path` below `root` is hidden or a system name. Only the part
 * below the folder root counts: a library folder may itself live under a dot-folder.
 */
export function hasSkippedComponent(root: string, path: string): boolean {
  if (path === root || !isInside(path, root)) return false;
  return relative(root, path).split(sep).some(isSkippedName);
}

/** Absolute paths never indexed. Each is kept as given and as its real path, so symlinks cannot sneak around it. */
export class IgnoreList {
  private readonly paths: string[];

  constructor(paths: readonly string[] = []) {
    const all = new Set<string>();
    for (const p of paths) {
      const abs = resolve(p);
      all.add(abs);
      try {
        all.add(realpathSync(abs));
      } catch {
        // Not created yet: the given path is all we can match.
      }
    }
    this.paths = [...all];
  }

  covers(path: string): boolean {
    return this.paths.some((p) => isInside(path, p));
  }
}
