/**
 * Parsing of `photo://` URLs, the only way the renderer asks for image bytes.
 * Accepts exactly `photo://thumbnail/<id>` and `photo://original/<id>` where <id> is a library
 * photo id in plain decimal; the id is then resolved by `App.photoFile`, which only knows ids in
 * the database. No part of the URL ever becomes a path. Must never import 'electron'.
 */
export type PhotoKind = 'thumbnail' | 'original';

export type PhotoRequest =
  | { ok: true; kind: PhotoKind; id: number }
  | { ok: false; status: 400 | 404; reason: string };

const kinds: readonly PhotoKind[] = ['thumbnail', 'original'];

export function parsePhotoUrl(raw: string): PhotoRequest {
  if (typeof raw !== 'string' || raw.length > 2048) return bad(400, 'not a photo URL');
  // Look at the raw text first: URL parsing would quietly resolve `..` and decode escapes.
  const m = /^photo:\/\/([a-z]+)\/([^/?#]*)\/?(?:[?#].*)?$/.exec(raw);
  if (!m) return bad(400, 'expected photo://thumbnail/<id> or photo://original/<id>');
  const [, kind, idText] = m;
  if (!kinds.includes(kind as PhotoKind)) return bad(404, `unknown kind "${kind}"`);
  if (!/^[1-9][0-9]{0,14}$/.test(idText!) && idText !== '0') return bad(400, 'the photo id must be a plain number');
  const id = Number(idText);
  if (!Number.isSafeInteger(id)) return bad(400, 'the photo id is too large');
  return { ok: true, kind: kind as PhotoKind, id };
}

/** The URL the renderer puts in <img src>, for tests and for code that builds them. */
export function photoUrl(kind: PhotoKind, id: number): string {
  return `photo://${kind}/${id}`;
}

function bad(status: 400 | 404, reason: string): PhotoRequest {
  return { ok: false, status, reason };
}
