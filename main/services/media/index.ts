/**
 * media — owns turning photo files into what the rest of the app needs: displayed size, capture
 * date and camera, the encoder's input tensor, thumbnails and browser-displayable copies. One
 * decode per photo, bounded memory for huge images, and a MediaError with a plain-words reason
 * for anything unreadable.
 *
 * Must never write to, move or delete a user's photo: sources are only ever read; the only files
 * written are thumbnails and display copies, at paths the caller chooses.
 *
 * HEIC/HEIF pixels come from libheif (WebAssembly, in worker threads: heic.ts) because the libvips
 * bundled with sharp has no HEVC decoder; they join the same sharp pipeline as raw RGBA.
 *
 * Transparency is flattened onto WHITE, as most viewers show it and as PIL-based CLIP pipelines
 * do after convert('RGB') on a paletted/LA image with a white matte.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import sharp, { type Metadata, type Sharp } from 'sharp';
import type { PreprocessSpec } from '../../core/model-spec.ts';
import { cropInterleaved, resizePlan, toClipTensor } from '../../core/preprocess.ts';
import { uprightCmykAsRgb } from './cmyk.ts';
import { captureFactsFromExif } from './exif.ts';
import { MediaError, toMediaError } from './errors.ts';
import { decodeHeicBuffer, decodeHeicFile } from './heic.ts';
import { resampleCrop } from './resample.ts';

export { MediaError } from './errors.ts';
export { needsDisplayCopy } from '../../core/photo-formats.ts';
export type { MediaErrorCode } from './errors.ts';
export { stopHeicDecoders } from './heic.ts';

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

/**
 * Decoder options shared by every read: first frame only, fail on real decode errors (truncation
 * included). `ignoreIcc` leaves pixels as stored instead of converting an embedded profile to sRGB.
 */
function open(input: string | Buffer, opts: { ignoreIcc?: boolean } = {}): Sharp {
  return sharp(input, {
    failOn: 'error',
    limitInputPixels: MAX_INPUT_PIXELS,
    pages: 1,
    // Keeps sequential reads so libvips streams big JPEGs instead of buffering them.
    sequentialRead: true,
    ignoreIcc: opts.ignoreIcc ?? false,
  });
}

/** libvips kernels closest to Pillow's filters when shrinking (measured against Pillow, see the README). */
const SHRINK_KERNEL = { bicubic: 'cubic', bilinear: 'linear' } as const;

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
  if (!meta.width || !meta.height) throw new MediaError('corrupt', 'not a readable image: it has no size', path);
}

// The prebuilt libvips reads HEIF headers and EXIF but, for legal reasons, only decodes AV1 (AVIF).
const SHARP_DECODES_HEVC = sharp.format.heif.input.fileSuffix?.includes('.heic') ?? false;

interface Opened {
  meta: Metadata;
  /** The photo's pixels, upright, ready for resizing. */
  source: Sharp;
  /** Upright size of `source`. */
  width: number;
  height: number;
}

/**
 * Open a photo for one decode. HEIC goes through libheif (off the main thread) and comes back as
 * raw RGBA already turned by its irot/imir boxes: it must not be turned again by the EXIF
 * Orientation tag that iPhones also write (libvips drops that tag from HEIF headers for the
 * same reason). Everything else is turned by EXIF orientation here.
 */
async function openUpright(input: string | Buffer, path: string | null, opts: { ignoreIcc?: boolean } = {}): Promise<Opened> {
  const img = open(input, opts);
  // Header only: no pixels are decoded until the caller's pipeline runs, so this is still one decode.
  const meta = await img.metadata();
  assertDecodable(meta, path);
  if (meta.format === 'heif' && meta.compression === 'hevc' && !SHARP_DECODES_HEVC) {
    const decoded = typeof input === 'string' ? await decodeHeicFile(input, MAX_INPUT_PIXELS) : await decodeHeicBuffer(input, MAX_INPUT_PIXELS);
    const source = sharp(decoded.rgba, {
      raw: { width: decoded.width, height: decoded.height, channels: 4, premultiplied: decoded.premultiplied },
      limitInputPixels: MAX_INPUT_PIXELS,
    });
    return { meta, source, width: decoded.width, height: decoded.height };
  }
  // CMYK: the plain formula where no profile says otherwise (and always for the tensor, which
  // ignores profiles like the reference pipeline); see ./cmyk.ts.
  if (meta.space === 'cmyk' && (opts.ignoreIcc || !meta.hasProfile)) {
    return { meta, ...(await uprightCmykAsRgb(img.rotate(), MAX_INPUT_PIXELS)) };
  }
  return { meta, source: img.rotate(), width: meta.autoOrient?.width ?? meta.width, height: meta.autoOrient?.height ?? meta.height };
}

async function prepare(input: string | Buffer, spec: PreprocessSpec, path: string | null): Promise<PreparedPhoto> {
  try {
    // The tensor follows the models' reference pipelines, which read pixels as stored and ignore
    // an embedded ICC profile (PIL, Rust's image crate): converting to sRGB here would move
    // Display P3 / Adobe RGB photos by 0.03–0.15 (mean, normalised) away from what the model
    // was trained and exported on. Thumbnails stay colour-managed (makeThumbnail).
    const { meta, source, width, height } = await openUpright(input, path, { ignoreIcc: true });
    // The decoded size is the truth (HEIC headers are read by another library than its pixels).
    const facts = { ...(await factsFrom(meta, input)), width, height };
    const size = spec.size;
    const plan = resizePlan(facts.width, facts.height, spec);
    // Upright (the photo as displayed), transparency over white.
    const upright = source.flatten({ background: WHITE });
    let rgb: Uint8Array;
    if (plan.resize.width > facts.width || plan.resize.height > facts.height) {
      // Enlarging: libvips interpolates where Pillow convolves, so resample the (small) decoded
      // photo with Pillow's own arithmetic.
      const { data, info } = await upright.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.width !== facts.width || info.height !== facts.height || info.channels !== 3) {
        throw new MediaError('corrupt', `not a readable image: decoded to ${info.width}x${info.height}x${info.channels}`, path);
      }
      const decoded = new Uint8Array(data.buffer, data.byteOffset, data.length);
      rgb = resampleCrop(decoded, info.width, info.height, plan.resize.width, plan.resize.height, plan.crop, spec.interpolation);
    } else {
      // Shrinking: libvips' kernels match Pillow's closely. fastShrinkOnLoad: false limits JPEG
      // shrink-on-load so that at least a 2× reduction is left to the real kernel; shrinking
      // fully on load measured 0.0106 from Pillow on a 2000×1500 photo (0.0029 this way), and
      // 0.016–0.032 on 1000–4000 px photos with fine stripes (docs/speed.md).
      // The crop is cut here, not with sharp's extract(): after auto-orientation, extract() makes
      // sharp turn the photo before resizing, which rules out shrink-on-load, so an EXIF-rotated
      // camera JPEG (a phone's portrait photo) was decoded at full size: ~6× the CPU of the same
      // photo stored upright. Resized first, it is turned after resizing, at 224 px.
      const { data, info } = await upright
        .resize(plan.resize.width, plan.resize.height, { fit: 'fill', kernel: SHRINK_KERNEL[spec.interpolation], fastShrinkOnLoad: false })
        .removeAlpha()
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.width !== plan.resize.width || info.height !== plan.resize.height || info.channels !== 3) {
        throw new MediaError('corrupt', `not a readable image: decoded to ${info.width}x${info.height}x${info.channels}`, path);
      }
      rgb = cropInterleaved(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, plan.crop);
    }
    const pixels = toClipTensor(rgb, size, size, spec.mean, spec.std);
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
  await writeResized(srcPath, destPath, maxSize, 82);
}


/** Largest side of a display copy: sharper than any screen needs, and bounded in size and time. */
export const DISPLAY_COPY_MAX_SIZE = 4096;

/**
 * Write a browser-displayable JPEG of a photo (HEIC, TIFF) for the full-size preview: upright,
 * at most maxSize on its longest side (never enlarged), same atomic write as thumbnails. The
 * original is only read.
 */
export async function makeDisplayCopy(srcPath: string, destPath: string, maxSize = DISPLAY_COPY_MAX_SIZE): Promise<void> {
  await writeResized(srcPath, destPath, maxSize, 90);
}

async function writeResized(srcPath: string, destPath: string, maxSize: number, jpegQuality: number): Promise<void> {
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`invalid image size ${maxSize}`);
  await checkFile(srcPath);
  await mkdir(dirname(destPath), { recursive: true });
  const tmp = `${destPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const { source } = await openUpright(srcPath, srcPath);
    let pipeline = source
      .resize(maxSize, maxSize, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: WHITE });
    pipeline =
      extname(destPath).toLowerCase() === '.webp'
        ? pipeline.webp({ quality: 80 })
        : pipeline.jpeg({ quality: jpegQuality, mozjpeg: true });
    await pipeline.toFile(tmp);
    await rename(tmp, destPath);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw toMediaError(err, srcPath, MAX_INPUT_PIXELS);
  }
}

/** A photo's grey levels, upright (as displayed), one byte per pixel, row by row. */
export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * The photo in grey, upright and no larger than maxSize on its longest side (never enlarged),
 * transparency over white: what text recognition reads. A small maxSize is cheap (JPEG shrinks
 * while decoding), so a first look at a photo costs a fraction of a full decode.
 */
export async function readGreyscale(srcPath: string, maxSize: number): Promise<GreyImage> {
  await checkFile(srcPath);
  try {
    const { source } = await openUpright(srcPath, srcPath);
    const { data, info } = await source
      .resize(maxSize, maxSize, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: WHITE })
      .greyscale()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new MediaError('corrupt', `not a readable image: decoded to ${info.channels} channels`, srcPath);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (err) {
    throw toMediaError(err, srcPath, MAX_INPUT_PIXELS);
  }
}
