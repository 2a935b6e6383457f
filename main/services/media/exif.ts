/**
 * When and with what a photo was taken, from its EXIF block. Best effort: a damaged or missing
 * EXIF block gives nulls, never an error, because the pixels are what matter.
 */
import exifr from 'exifr';

export interface CaptureFacts {
  takenAt: number | null;
  camera: string | null;
}

const NONE: CaptureFacts = { takenAt: null, camera: null };

// ifd0 is always parsed (exifr cannot disable it); everything we do not read is switched off.
const EXIF_OPTIONS: Parameters<typeof exifr.parse>[1] = {
  tiff: true,
  exif: true,
  gps: false,
  interop: false,
  ifd1: false,
  makerNote: false,
  userComment: false,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  reviveValues: false,
  pick: ['DateTimeOriginal', 'CreateDate', 'DateTimeDigitized', 'Make', 'Model'],
};

/**
 * Parse an EXIF payload as sharp returns it (`Exif\0\0` + TIFF structure, or bare TIFF
 * structure from PNG eXIf chunks), or a whole TIFF file (buffer or path).
 */
export async function captureFactsFromExif(exif: Buffer | string | undefined | null): Promise<CaptureFacts> {
  if (!exif || (typeof exif !== 'string' && exif.length < 8)) return NONE;
  const source =
    typeof exif !== 'string' && exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  try {
    const tags = (await exifr.parse(source, EXIF_OPTIONS)) as Record<string, unknown> | undefined;
    if (!tags) return NONE;
    return {
      takenAt: parseExifDate(tags.DateTimeOriginal) ?? parseExifDate(tags.CreateDate) ?? parseExifDate(tags.DateTimeDigitized),
      camera: cameraName(tags.Make, tags.Model),
    };
  } catch {
    return NONE;
  }
}

/**
 * EXIF dates ('2021:07:14 15:30:00') carry no time zone; cameras write the local wall-clock
 * time, so it is read as local time on this machine. Placeholder dates ('0000:00:00') are null.
 */
export function parseExifDate(value: unknown): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((p) => (p === undefined ? 0 : Number(p)));
  if (y < 1800 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const t = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isNaN(t) ? null : t;
}

/** 'Canon' + 'Canon EOS 5D' → 'Canon EOS 5D'; 'NIKON CORPORATION' + 'NIKON D750' → 'NIKON CORPORATION NIKON D750'. */
export function cameraName(make: unknown, model: unknown): string | null {
  const clean = (v: unknown) => (typeof v === 'string' ? v.replace(/\0/g, '').replace(/\s+/g, ' ').trim() : '');
  const mk = clean(make);
  const md = clean(model);
  if (!mk && !md) return null;
  if (mk && md.toLowerCase().startsWith(mk.toLowerCase())) return md;
  return [mk, md].filter(Boolean).join(' ');
}
