/** Messages between the media service and its HEIC decoder worker. */

export interface HeicRequest {
  id: number;
  /** The file to read, or null when the bytes are in `data`. */
  path: string | null;
  data: ArrayBuffer | null;
  /** Refuse images with more pixels than this (before allocating them). */
  maxPixels: number;
}

export type HeicResponse =
  | { id: number; ok: true; width: number; height: number; premultiplied: boolean; pixels: ArrayBuffer }
  | {
      id: number;
      ok: false;
      kind: 'corrupt' | 'too-large' | 'fs';
      error: string;
      fsCode?: string;
      /** The decoder threw rather than returning an error: its WebAssembly state may be broken, start a fresh worker. */
      restart?: boolean;
    };
