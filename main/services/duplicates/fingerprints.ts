/**
 * Fingerprints: each indexed photo's perceptual hash and grey thumbnail, made once with sharp and
 * kept in `duplicate_fingerprints` (migration 005) under the photo's content key, so only new and
 * edited photos are decoded again. The photo files are only ever read.
 */
import sharp from 'sharp';
import type { FailedPhoto } from '../../core/contract.ts';
import type { Store } from '../store/index.ts';
import { indexedPhotoContents, type PhotoContent } from '../library/index.ts';
import { DECODE_SIDE, THUMB_SIDE, boxDownsample, perceptualHash } from './perceptual.ts';

export interface Fingerprint {
  photoId: number;
  hashHi: number;
  hashLo: number;
  thumb: Uint8Array;
}

/** Photos decoded at once: sharp works on libuv's threads, so the event loop stays free. */
const CONCURRENCY = 2;
/** Fingerprints written per transaction. */
const BATCH = 32;

/** Reads a photo file into its fingerprint (EXIF orientation applied, first frame, grey). */
export async function fingerprintFile(path: string): Promise<Omit<Fingerprint, 'photoId'>> {
  const { data, info } = await sharp(path, { failOn: 'error', pages: 1, limitInputPixels: 300_000_000 })
    .rotate()
    .greyscale()
    .resize(DECODE_SIDE, DECODE_SIDE, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected one grey channel, got ${info.channels}`);
  const thumb = boxDownsample(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), DECODE_SIDE, THUMB_SIDE);
  const [hashHi, hashLo] = perceptualHash(thumb);
  return { hashHi, hashLo, thumb };
}

export interface FingerprintProgress {
  done: number;
  total: number;
}

export interface FingerprintsResult {
  fingerprints: Fingerprint[];
  unreadable: FailedPhoto[];
}

/**
 * The fingerprint of every indexed photo: stored ones whose content is unchanged, the rest made
 * now (and stored). A photo that cannot be read is listed with its reason; the others go on.
 * `stopped` is asked between photos: true ends the work (what was made is kept).
 */
export async function fingerprintLibrary(
  store: Store,
  onProgress: (p: FingerprintProgress) => void,
  stopped: () => boolean,
): Promise<FingerprintsResult> {
  const photos = indexedPhotoContents(store);
  const stored = new Map<number, { content: string; fp: Fingerprint }>();
  for (const r of store.db
    .prepare<[], { photo_id: number; content: string; hash_hi: number; hash_lo: number; thumb: Buffer }>(
      'SELECT photo_id, content, hash_hi, hash_lo, thumb FROM duplicate_fingerprints',
    )
    .iterate()) {
    stored.set(r.photo_id, { content: r.content, fp: { photoId: r.photo_id, hashHi: r.hash_hi >>> 0, hashLo: r.hash_lo >>> 0, thumb: new Uint8Array(r.thumb) } });
  }
  const fingerprints: Fingerprint[] = [];
  const todo: PhotoContent[] = [];
  for (const p of photos) {
    const s = stored.get(p.id);
    if (s && s.content === p.content) fingerprints.push(s.fp);
    else todo.push(p);
  }
  const unreadable: FailedPhoto[] = [];
  const save = store.db.prepare(
    `INSERT INTO duplicate_fingerprints (photo_id, content, hash_hi, hash_lo, thumb, made_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(photo_id) DO UPDATE SET content = excluded.content, hash_hi = excluded.hash_hi, hash_lo = excluded.hash_lo,
       thumb = excluded.thumb, made_at = excluded.made_at`,
  );
  let done = 0;
  onProgress({ done, total: todo.length });
  for (let start = 0; start < todo.length && !stopped(); start += BATCH) {
    const batch = todo.slice(start, start + BATCH);
    const made: { photo: PhotoContent; fp: Omit<Fingerprint, 'photoId'> }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < batch.length && !stopped()) {
          const photo = batch[next++]!;
          try {
            made.push({ photo, fp: await fingerprintFile(photo.path) });
          } catch (err) {
            unreadable.push({ id: photo.id, path: photo.path, reason: (err as Error).message });
          }
          done++;
          onProgress({ done, total: todo.length });
        }
      }),
    );
    // A photo deleted meanwhile fails its foreign key: skip it rather than lose the batch.
    const now = Date.now();
    store.transaction(() => {
      for (const m of made) {
        try {
          save.run(m.photo.id, m.photo.content, m.fp.hashHi | 0, m.fp.hashLo | 0, Buffer.from(m.fp.thumb), now);
          fingerprints.push({ photoId: m.photo.id, ...m.fp });
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_FOREIGNKEY') throw err;
        }
      }
    });
  }
  fingerprints.sort((a, b) => a.photoId - b.photoId);
  return { fingerprints, unreadable };
}
