/**
 * Maps `app://leanlens/<path>` requests to files of the built renderer (dist/renderer), refusing
 * anything that would resolve outside it. Must never import 'electron'.
 */
import { resolve } from 'node:path';
import { contentTypeOf } from '../core/mime.ts';
import { isInside } from '../core/paths.ts';
import { APP_HOST, APP_SCHEME } from './security.ts';

export type AppFile = { ok: true; path: string; contentType: string } | { ok: false; status: 400 | 404 };

export function resolveAppFile(url: string, rootDir: string): AppFile {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, status: 400 };
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.hostname !== APP_HOST) return { ok: false, status: 404 };
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return { ok: false, status: 400 };
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return { ok: false, status: 400 };
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const root = resolve(rootDir);
  const file = resolve(root, '.' + pathname);
  if (!isInside(file, root, { allowSame: false })) return { ok: false, status: 404 };
  const contentType = contentTypeOf(file);
  if (!contentType) return { ok: false, status: 404 };
  return { ok: true, path: file, contentType };
}
