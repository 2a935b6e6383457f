/**
 * One wording per error the renderer shows: capitalised, each prefix said once, and, for an image
 * searched with, naming how the file came ("the chosen file", "the dropped file").
 */

/** How an image to search with reached the app. */
export type FileOrigin = 'chosen' | 'dropped';

/** The largest image accepted for "search by image" (it travels as base64). */
export const MAX_SEARCH_IMAGE_BYTES = 48 * 1_000_000;

const IMAGE_NAME = /\.(jpe?g|png|webp|gif|avif|tiff?|heic|heif|bmp)$/i;

/** A sentence a person reads: first letter capitalised, repeated "Error:"/code prefixes dropped, one final stop. */
export function sentence(text: string): string {
  let t = text.trim();
  // "Error: Error: failed: x" → "x": transports and wrappers each add their own prefix.
  for (let prev = ''; prev !== t; ) {
    prev = t;
    t = t.replace(/^(?:\w*Error|error):\s*/, '');
  }
  if (!t) return 'Something went wrong.';
  // Only a leading word is capitalised: "photo.jpg is…" or "/home/x …" keep their spelling.
  if (/^[a-z]+[\s,:]/.test(t)) t = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

/** Why a file cannot be searched with before it is sent, or null when it can. */
export function imageFileProblem(file: { name: string; type: string; size: number }, origin: FileOrigin): string | null {
  if (!file.type.startsWith('image/') && !IMAGE_NAME.test(file.name)) return `The ${origin} file, ${file.name}, is not an image.`;
  if (file.size > MAX_SEARCH_IMAGE_BYTES) return `The ${origin} file, ${file.name}, is too large to search with (over ${MAX_SEARCH_IMAGE_BYTES / 1_000_000} MB).`;
  return null;
}

/** The app's answer to an image that could not be searched with, said about that file. */
export function imageSearchError(message: string, origin: FileOrigin, name: string): string {
  const reason = sentence(message).replace(/^Not a readable image:\s*/, '');
  if (reason === sentence(message)) return `Could not search with the ${origin} file, ${name}: ${lowerFirst(reason)}`;
  return `The ${origin} file, ${name}, is not a readable image: ${lowerFirst(reason)}`;
}

function lowerFirst(s: string): string {
  return s && /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}
