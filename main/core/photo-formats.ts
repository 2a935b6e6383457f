/**
 * Which files are photos, by extension: the one list for the whole app. Media decodes exactly
 * these; the library scans and watches for them. It lives in core (no I/O, no sharp) so the
 * library can use it without loading the image decoder.
 */
import { extname } from 'node:path';

export const PHOTO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif', '.heic', '.heif',
]);

/** Whether a file name looks like a photo, by extension (case-insensitive). */
export function isPhotoPath(path: string): boolean {
  return PHOTO_EXTENSIONS.has(extname(path).toLowerCase());
}
