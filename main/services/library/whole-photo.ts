/**
 * Whether a photo file is whole by its own format, read without decoding pixels: how the watcher
 * takes a copied photo at once instead of waiting a fixed time for its size to hold still
 * (write-settle.ts). Each check walks the format's own structure to the end, so an end marker
 * that happens to sit in the middle of the file (a JPEG's EXIF thumbnail ends with one) or a
 * writer that paused between two PNG chunks is not mistaken for the end.
 *
 *   'whole'   the structure ends exactly at the last byte
 *   'partial' a format we can walk, and it stops short (or is damaged: a truncated file looks so)
 *   'unknown' a format without such a walk here (TIFF, GIF): only time can tell
 */
import { open } from 'node:fs/promises';

export type Wholeness = 'whole' | 'partial' | 'unknown';

/** Larger files are only judged by time: reading them whole on every settle would cost more than it saves. */
const MAX_WALKED_BYTES = 256 * 1024 * 1024;

export async function photoWholeness(path: string, size: number): Promise<Wholeness> {
  if (size < 16 || size > MAX_WALKED_BYTES) return size < 16 ? 'partial' : 'unknown';
  let fh;
  try {
    fh = await open(path, 'r');
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    const kind = formatOf(head);
    if (kind === 'webp') return head.readUInt32LE(4) + 8 + (head.readUInt32LE(4) & 1) === size ? 'whole' : 'partial';
    if (kind === null) return 'unknown';
    const bytes = Buffer.alloc(size);
    const { bytesRead } = await fh.read(bytes, 0, size, 0);
    if (bytesRead !== size) return 'partial';
    const whole = kind === 'jpeg' ? jpegIsWhole(bytes) : kind === 'png' ? pngIsWhole(bytes) : isobmffIsWhole(bytes);
    return whole ? 'whole' : 'partial';
  } catch {
    return 'partial'; // unreadable right now (still being created, or locked): ask again later
  } finally {
    await fh?.close();
  }
}

function formatOf(head: Buffer): 'jpeg' | 'png' | 'webp' | 'isobmff' | null {
  if (head[0] === 0xff && head[1] === 0xd8) return 'jpeg';
  if (head.readUInt32BE(0) === 0x89504e47) return 'png';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (head.toString('latin1', 4, 8) === 'ftyp') return 'isobmff'; // HEIC, HEIF, AVIF
  return null;
}

/**
 * Marker segments by their lengths up to each scan, entropy-coded data up to the next marker
 * (0xFF followed by anything but a stuffed 0x00 or a restart marker), until EOI at the very end.
 * A multi-picture file (MPO: images back to back) is walked image by image.
 */
export function jpegIsWhole(b: Buffer): boolean {
  let i = 0;
  const n = b.length;
  for (;;) {
    if (i + 2 > n || b[i] !== 0xff || b[i + 1] !== 0xd8) return false; // SOI
    i += 2;
    for (;;) {
      if (i + 2 > n || b[i] !== 0xff) return false;
      const marker = b[i + 1]!;
      if (marker === 0xff) {
        i += 1; // fill byte
        continue;
      }
      if (marker === 0xd9) break; // EOI
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i += 2;
        continue;
      }
      if (i + 4 > n) return false;
      const end = i + 2 + b.readUInt16BE(i + 2);
      if (end > n) return false;
      i = end;
      if (marker === 0xda) {
        const next = nextMarker(b, i);
        if (next < 0) return false;
        i = next;
      }
    }
    i += 2;
    if (i === n) return true;
  }
}

function nextMarker(b: Buffer, from: number): number {
  let j = from;
  for (;;) {
    j = b.indexOf(0xff, j);
    if (j < 0 || j + 1 >= b.length) return -1;
    const m = b[j + 1]!;
    if (m !== 0x00 && !(m >= 0xd0 && m <= 0xd7) && m !== 0xff) return j;
    j += m === 0xff ? 1 : 2;
  }
}

/** Chunks by their lengths from the signature to IEND, which must end at the last byte. */
export function pngIsWhole(b: Buffer): boolean {
  let i = 8;
  while (i + 12 <= b.length) {
    const end = i + 12 + b.readUInt32BE(i);
    if (end > b.length) return false;
    if (b.toString('latin1', i + 4, i + 8) === 'IEND') return end === b.length;
    i = end;
  }
  return false;
}

/** Top-level boxes by their sizes to the last byte, with the metadata and the media data both present. */
export function isobmffIsWhole(b: Buffer): boolean {
  let i = 0;
  const seen = new Set<string>();
  while (i + 8 <= b.length) {
    let size = b.readUInt32BE(i);
    if (size === 1) {
      if (i + 16 > b.length) return false;
      size = Number(b.readBigUInt64BE(i + 8));
    }
    if (size < 8) return false; // 0 means "to the end of the file", which says nothing about whether it is there
    seen.add(b.toString('latin1', i + 4, i + 8));
    i += size;
  }
  return i === b.length && seen.has('meta') && seen.has('mdat');
}
