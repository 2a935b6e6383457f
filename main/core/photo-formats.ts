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

/**
 * Extensions a browser (Chromium, hence the Electron renderer) cannot show as they are. Their
 * full-size preview is a JPEG copy made by makeDisplayCopy.
 */
const NOT_BROWSER_DISPLAYABLE: ReadonlySet<string> = new Set(['.heic', '.heif', '.tif', '.tiff']);

/** Whether the full-size preview of this photo must be a converted copy instead of the file itself. */
export function needsDisplayCopy(path: string): boolean {
  return NOT_BROWSER_DISPLAYABLE.has(extname(path).toLowerCase());
}
