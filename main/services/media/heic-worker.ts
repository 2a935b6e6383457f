/**
 * The HEIC decoder's worker thread: libheif compiled to WebAssembly (libheif-js) decodes one
 * photo at a time. It runs here, not on the main thread, because a 12 MP HEIC is seconds of
 * synchronous WebAssembly, during which the app could not answer anything.
 *
 * libheif applies the HEIF transforms (irot, imir, clap) while decoding, so the pixels come back
 * upright; the caller must not rotate them again by an EXIF Orientation tag.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type { HeicRequest, HeicResponse } from './heic-protocol.ts';

/** The part of libheif-js's Embind surface used here (the package ships no typings for its entry). */
interface HeifError {
  code: { value: number };
  message: string;
}
interface DecodedImage {
  image: unknown;
  width: number;
  height: number;
  channels: { width: number; height: number; stride: number; data: Uint8Array }[];
}
interface LibHeif {
  heif_context_alloc(): unknown;
  heif_context_free(ctx: unknown): void;
  heif_context_read_from_memory(ctx: unknown, data: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(ctx: unknown): unknown;
  heif_image_handle_get_width(h: unknown): number;
  heif_image_handle_get_height(h: unknown): number;
  heif_image_handle_has_alpha_channel(h: unknown): number;
  heif_image_handle_is_premultiplied_alpha(h: unknown): number;
  heif_image_handle_release(h: unknown): void;
  heif_js_decode_image2(h: unknown, colorspace: unknown, chroma: unknown): DecodedImage | HeifError | null;
  heif_image_release(img: unknown): void;
  heif_colorspace: { heif_colorspace_RGB: unknown };
  heif_chroma: { heif_chroma_interleaved_RGBA: unknown };
}

// Loading compiles 1.4 MB of WebAssembly (~0.3 s): done once per worker, on its first photo.
let libheif: LibHeif | null = null;
function lib(): LibHeif {
  libheif ??= createRequire(import.meta.url)('libheif-js/wasm-bundle') as LibHeif;
  return libheif;
}

function isError(v: unknown): v is HeifError {
  return !!v && typeof v === 'object' && 'code' in v && typeof (v as HeifError).code === 'object' && !('channels' in v);
}

function decode(req: HeicRequest): HeicResponse {
  const data = req.path !== null ? readFileSync(req.path) : new Uint8Array(req.data!);
  const lh = lib();
  const ctx = lh.heif_context_alloc();
  let handle: unknown = null;
  try {
    const read = lh.heif_context_read_from_memory(ctx, data);
    if (read.code.value !== 0) return { id: req.id, ok: false, kind: 'corrupt', error: read.message };
    handle = lh.heif_js_context_get_primary_image_handle(ctx);
    if (!handle || isError(handle)) {
      return { id: req.id, ok: false, kind: 'corrupt', error: (handle as HeifError | null)?.message ?? 'no primary image' };
    }
    const width = lh.heif_image_handle_get_width(handle);
    const height = lh.heif_image_handle_get_height(handle);
    // Refuse before allocating, like libvips does for other formats.
    if (width * height > req.maxPixels) return { id: req.id, ok: false, kind: 'too-large', error: `${width}x${height}` };
    const premultiplied = !!lh.heif_image_handle_has_alpha_channel(handle) && !!lh.heif_image_handle_is_premultiplied_alpha(handle);
    const img = lh.heif_js_decode_image2(
      handle,
      lh.heif_colorspace.heif_colorspace_RGB,
      lh.heif_chroma.heif_chroma_interleaved_RGBA,
    );
    if (!img || isError(img)) return { id: req.id, ok: false, kind: 'corrupt', error: img?.message ?? 'the image data could not be decoded' };
    try {
      const plane = img.channels[0];
      if (!plane || plane.width * plane.height === 0) return { id: req.id, ok: false, kind: 'corrupt', error: 'decoded to no pixels' };
      // Copy out of the WebAssembly heap, dropping row padding, into a buffer we can transfer.
      const rowBytes = plane.width * 4;
      const out = new Uint8Array(rowBytes * plane.height);
      if (plane.stride === rowBytes) out.set(plane.data.subarray(0, out.length));
      else for (let y = 0; y < plane.height; y++) out.set(plane.data.subarray(y * plane.stride, y * plane.stride + rowBytes), y * rowBytes);
      return { id: req.id, ok: true, width: plane.width, height: plane.height, premultiplied, pixels: out.buffer };
    } finally {
      lh.heif_image_release(img.image);
    }
  } finally {
    if (handle && !isError(handle)) lh.heif_image_handle_release(handle);
    lh.heif_context_free(ctx);
  }
}

parentPort!.on('message', (req: HeicRequest) => {
  let res: HeicResponse;
  try {
    res = decode(req);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    const error = err instanceof Error ? err.message : String(err);
    // An exception from inside the WebAssembly (an abort, out of memory) can leave libheif unusable.
    res = code ? { id: req.id, ok: false, kind: 'fs', error, fsCode: code } : { id: req.id, ok: false, kind: 'corrupt', error, restart: true };
  }
  parentPort!.postMessage(res, res.ok ? [res.pixels] : []);
});
