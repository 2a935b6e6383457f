/**
 * media — owns turning photo files into what the rest of the app needs: displayed size, capture
 * date and camera, the encoder's input tensor, and thumbnails. One decode per photo, bounded
 * memory for huge images, and a MediaError with a plain-words reason for anything unreadable.
 *
 * Must never write to, move or delete a user's photo: sources are only ever read; the only files
 * written are thumbnails, at paths the caller chooses.
 *
 * Transparency is flattened onto WHITE, as most viewers show it and as PIL-based CLIP pipelines
 * do after convert('RGB') on a paletted/LA image with a white matte.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import sharp, { type Metadata, type Sharp } from 'sharp';
import type { PreprocessSpec } from '../../core/model-spec.ts';
import { centreCropBox, shortestSideTarget, toClipTensor } from '../../core/preprocess.ts';
import { captureFactsFromExif } from './exif.ts';
import { MediaError, toMediaError } from './errors.ts';

export { MediaError } from './errors.ts';
export type { MediaErrorCode } from './errors.ts';

// The extensions media decodes; defined in core so the library can scan without loading sharp.
export { isPhotoPath, PHOTO_EXTENSIONS } from '../../core/photo-formats.ts';

export interface PhotoFacts {
  /** As displayed, i.e. after EXIF orientation. */
  width: number;
  height: number;
  /** 'jpeg' | 'png' | 'webp' | 'tiff' | 'gif' | 'avif' | 'heic' … */
  format: string;
  /** Capture time from EXIF (ms since epoch, read as local time), or null. */
  takenAt: number | null;
  /** EXIF Make + Model, or null. */
  camera: string | null;
}

export interface PreparedPhoto {
  facts: PhotoFacts;
  /** CHW float32, 3 × size × size, normalised with the spec's mean/std. */
  pixels: Float32Array;
}

/** Largest image we agree to open; beyond this libvips refuses before allocating anything. */
export const MAX_INPUT_PIXELS = 300_000_000;

const WHITE = { r: 255, g: 255, b: 255 };

/** Decoder options shared by every read: first frame only, fail on real decode errors (truncation included). */
function open(input: string | Buffer): Sharp {
  return sharp(input, {
    failOn: 'error',
    limitInputPixels: MAX_INPUT_PIXELS,
    pages: 1,
    // Keeps sequential reads so libvips streams big JPEGs instead of buffering them.
    sequentialRead: true,
  });
}

async function checkFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw toMediaError(err, path, MAX_INPUT_PIXELS);
  }
  if (info.isDirectory()) throw new MediaError('unreadable', 'this is a folder, not a file', path);
  if (info.size === 0) throw new MediaError('empty', 'the file is empty (0 bytes)', path);
}

function formatName(meta: Metadata): string {
  if (meta.format === 'heif') return meta.compression === 'hevc' ? 'heic' : 'avif';
  return meta.format;
}

async function factsFrom(meta: Metadata, input: string | Buffer): Promise<PhotoFacts> {
  // TIFF keeps its tags in the file's own IFDs, which sharp does not hand back as an EXIF block.
  const exifSource = meta.exif ?? (meta.format === 'tiff' ? input : null);
  const capture = await captureFactsFromExif(exifSource);
  return {
    width: meta.autoOrient?.width ?? meta.width,
    height: meta.autoOrient?.height ?? meta.height,
    format: formatName(meta),
    ...capture,
  };
}

function assertDecodable(meta: Metadata, path: string | null): void {
  if (meta.format === 'heif' && meta.compression === 'hevc' && !sharp.format.heif.input.fileSuffix?.includes('.heic')) {
    throw new MediaError(
      'unsupported',
      'this HEIC photo cannot be decoded: the bundled image library has no HEVC decoder (convert it to JPEG first)',
      path,
    );
  }
  if (!meta.width || !meta.height) throw new MediaError('corrupt', 'not a readable image: it has no size', path);
}

async function prepare(input: string | Buffer, spec: PreprocessSpec, path: string | null): Promise<PreparedPhoto> {
  try {
    const img = open(input);
    // Header only: no pixels are decoded until toBuffer below, so this is still one decode.
    const meta = await img.metadata();
    assertDecodable(meta, path);
    const facts = await factsFrom(meta, input);
    const size = spec.size;
    let pipeline = img.rotate().flatten({ background: WHITE });
    if (spec.resize === 'shortest') {
      const target = shortestSideTarget(facts.width, facts.height, size);
      const box = centreCropBox(target.width, target.height, size);
      // Resizing before the crop lets libjpeg shrink on load, so huge photos never exist at full size.
      pipeline = pipeline
        .resize(target.width, target.height, { fit: 'fill', kernel: 'cubic' })
        .extract(box);
    } else {
      pipeline = pipeline.resize(size, size, { fit: 'fill', kernel: 'cubic' });
    }
    const { data, info } = await pipeline
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      throw new MediaError('corrupt', `not a readable image: decoded to ${info.width}x${info.height}x${info.channels}`, path);
    }
    const pixels = toClipTensor(new Uint8Array(data.buffer, data.byteOffset, data.length), size, size, spec.mean, spec.std);
    return { facts, pixels };
  } catch (err) {
    throw toMediaError(err, path, MAX_INPUT_PIXELS);
  }
}

/** Facts and encoder tensor of a photo file, from one decode. */
export async function preparePhoto(path: string, spec: PreprocessSpec): Promise<PreparedPhoto> {
  await checkFile(path);
  return prepare(path, spec, path);
}

/** Same as preparePhoto for bytes that are not (yet) a file, e.g. an image dropped on the search box. */
export async function preparePhotoBuffer(data: Buffer, spec: PreprocessSpec): Promise<PreparedPhoto> {
  if (data.length === 0) throw new MediaError('empty', 'the file is empty (0 bytes)');
  return prepare(data, spec, null);
}

/** Size, format, capture date and camera from the header alone (no pixel decode). */
export async function readPhotoFacts(path: string): Promise<PhotoFacts> {
  await checkFile(path);
  try {
    const meta = await open(path).metadata();
    if (!meta.width || !meta.height) throw new MediaError('corrupt', 'not a readable image: it has no size', path);
    return await factsFrom(meta, path);
  } catch (err) {
    throw toMediaError(err, path, MAX_INPUT_PIXELS);
  }
}

/**
 * Write an upright thumbnail no larger than maxSize on either side (never enlarged): WebP when
 * destPath ends in .webp, JPEG otherwise. Written to a temporary file and renamed, so readers
 * never see half a thumbnail; parent folders are created.
 */
export async function makeThumbnail(srcPath: string, destPath: string, maxSize: number): Promise<void> {
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`invalid thumbnail size ${maxSize}`);
  await checkFile(srcPath);
  await mkdir(dirname(destPath), { recursive: true });
  const tmp = `${destPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    let pipeline = open(srcPath)
      .rotate()
      .resize(maxSize, maxSize, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: WHITE });
    pipeline = extname(destPath).toLowerCase() === '.webp' ? pipeline.webp({ quality: 80 }) : pipeline.jpeg({ quality: 82, mozjpeg: true });
    await pipeline.toFile(tmp);
    await rename(tmp, destPath);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw toMediaError(err, srcPath, MAX_INPUT_PIXELS);
  }
}
