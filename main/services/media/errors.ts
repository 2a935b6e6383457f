/**
 * Why a photo could not be read, in words a person understands, with a code the app can act on
 * (skip and report, retry later, or tell the user to fix permissions).
 */

export type MediaErrorCode = 'empty' | 'corrupt' | 'unsupported' | 'too-large' | 'unreadable' | 'missing';

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  /** The file concerned, when the input was a file (not a dropped buffer). */
  readonly path: string | null;

  constructor(code: MediaErrorCode, message: string, path: string | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
    this.path = path;
  }
}

/** First line of a libvips/sharp message, without its trailing punctuation noise. */
function firstLine(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? message.trim();
}

/** Turn whatever reading a photo threw (fs or sharp) into a MediaError with a plain message. */
export function toMediaError(err: unknown, path: string | null, maxPixels: number): MediaError {
  if (err instanceof MediaError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const raw = err instanceof Error ? err.message : String(err);
  if (code === 'ENOENT' || /Input file is missing/i.test(raw)) {
    return new MediaError('missing', 'the file no longer exists', path, { cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new MediaError('unreadable', 'permission denied: the file cannot be read', path, { cause: err });
  }
  if (code === 'EISDIR') return new MediaError('unreadable', 'this is a folder, not a file', path, { cause: err });
  if (code && /^E[A-Z]+$/.test(code)) {
    return new MediaError('unreadable', `the file cannot be read (${code})`, path, { cause: err });
  }
  if (/exceeds pixel limit/i.test(raw)) {
    const mp = Math.round(maxPixels / 1e6);
    return new MediaError('too-large', `the image is too large to open (more than ${mp} megapixels)`, path, {
      cause: err,
    });
  }
  // HEVC (HEIC) goes to libheif in WebAssembly before sharp sees it; what still lands here is a
  // HEIF with another codec (AVC, JPEG, VVC…) that neither library decodes.
  if (/\bhevc\b|unsupported codec|no decoding plugin|not been built in|not built in/i.test(raw)) {
    return new MediaError(
      'unsupported',
      `this HEIF photo uses a compression the bundled image libraries cannot decode (${firstLine(raw)})`,
      path,
      { cause: err },
    );
  }
  if (/unsupported image format/i.test(raw)) {
    return new MediaError('corrupt', 'not a readable image: the content is not in any known image format', path, {
      cause: err,
    });
  }
  return new MediaError('corrupt', `not a readable image: ${firstLine(raw)}`, path, { cause: err });
}
