// photo:// URLs: the renderer can name a library photo id and a kind, never a path.
import { describe, expect, it } from 'vitest';
import { parsePhotoUrl, photoUrl } from '../../main/electron/photo-url.ts';

describe('parsePhotoUrl', () => {
  it('accepts thumbnail and original by numeric id', () => {
    expect(parsePhotoUrl('photo://thumbnail/12')).toEqual({ ok: true, kind: 'thumbnail', id: 12 });
    expect(parsePhotoUrl('photo://original/7')).toEqual({ ok: true, kind: 'original', id: 7 });
    expect(parsePhotoUrl('photo://original/0')).toEqual({ ok: true, kind: 'original', id: 0 });
    // Chromium may add a trailing slash or a cache-busting query; neither changes the id.
    expect(parsePhotoUrl('photo://thumbnail/12/')).toEqual({ ok: true, kind: 'thumbnail', id: 12 });
    expect(parsePhotoUrl('photo://thumbnail/12?v=3')).toEqual({ ok: true, kind: 'thumbnail', id: 12 });
    expect(parsePhotoUrl(photoUrl('original', 42))).toEqual({ ok: true, kind: 'original', id: 42 });
  });

  it.each([
    ['photo://thumbnail/../../etc/passwd', 400],
    ['photo://thumbnail/..', 400],
    ['photo://original/%2e%2e%2fetc%2fpasswd', 400],
    ['photo://original/..%2F..%2Fsecret', 400],
    ['photo://original/%31%32', 400],
    ['photo://original/12%00', 400],
    ['photo://thumbnail/abc', 400],
    ['photo://thumbnail/-1', 400],
    ['photo://thumbnail/1.5', 400],
    ['photo://thumbnail/1e3', 400],
    ['photo://thumbnail/0x10', 400],
    ['photo://thumbnail/007', 400],
    ['photo://thumbnail/ 12', 400],
    ['photo://thumbnail/', 400],
    ['photo://thumbnail', 400],
    ['photo://thumbnail/99999999999999999999', 400],
    ['photo://thumbnail/12/extra', 400],
    ['photo://thumbnail/12/../13', 400],
    ['photo://original//etc/passwd', 400],
    ['photo:///etc/passwd', 400],
    ['photo://file/12', 404],
    ['photo://path/12', 404],
    ['photo://THUMBNAIL/12', 400],
    ['photo://thumbnail\\12', 400],
    ['file:///etc/passwd', 400],
    ['app://leanlens/thumbnail/12', 400],
    ['', 400],
  ] as const)('rejects %s with %i', (url, status) => {
    const r = parsePhotoUrl(url);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(status);
      expect(r.reason.length).toBeGreaterThan(0);
    }
  });

  it('rejects overlong URLs', () => {
    expect(parsePhotoUrl(`photo://thumbnail/1?${'a'.repeat(5000)}`).ok).toBe(false);
  });
});
