import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isInside, realInside } from '../../main/core/paths.ts';
import { contentTypeOf } from '../../main/core/mime.ts';

describe('isInside: the one path-containment rule', () => {
  const cs = { caseInsensitive: false };
  it('accepts the root itself and paths beneath it', () => {
    expect(isInside('/lib', '/lib', cs)).toBe(true);
    expect(isInside('/lib/a/b.jpg', '/lib', cs)).toBe(true);
  });
  it('refuses the root itself when asked to (a file must be below its folder)', () => {
    expect(isInside('/lib', '/lib', { ...cs, allowSame: false })).toBe(false);
    expect(isInside('/lib/a.jpg', '/lib', { ...cs, allowSame: false })).toBe(true);
  });
  it('treats "..foo" as a name inside the root, not as a way up', () => {
    expect(isInside('/lib/..foo', '/lib', cs)).toBe(true);
    expect(isInside('/lib/..foo/x.jpg', '/lib', cs)).toBe(true);
  });
  it('refuses "../x" and every spelling of leaving the root', () => {
    expect(isInside('/lib/../x', '/lib', cs)).toBe(false);
    expect(isInside('/lib/a/../../x', '/lib', cs)).toBe(false);
    expect(isInside('/', '/lib', cs)).toBe(false);
    expect(isInside('/other', '/lib', cs)).toBe(false);
  });
  it('is component-aware: /lib2 is not inside /lib', () => {
    expect(isInside('/lib2/a.jpg', '/lib', cs)).toBe(false);
    expect(isInside('/libx', '/lib', cs)).toBe(false);
  });
  it('ignores trailing separators on either side', () => {
    expect(isInside('/lib/a/', '/lib/', cs)).toBe(true);
    expect(isInside('/lib/', '/lib', cs)).toBe(true);
    expect(isInside('/lib2/', '/lib/', cs)).toBe(false);
  });
  it('compares case-insensitively where the file system is, and only there', () => {
    expect(isInside('/Users/Ann/Photos/a.jpg', '/users/ann/photos', { caseInsensitive: true })).toBe(true);
    expect(isInside('/Users/Ann/Photos/a.jpg', '/users/ann/photos', { caseInsensitive: false })).toBe(false);
    expect(isInside('/users/ann/photos2', '/Users/Ann/Photos', { caseInsensitive: true })).toBe(false);
  });
});

describe('realInside: symlinks resolved on both sides', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'leanlens-paths-')));
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'sub', 'in.jpg'), 'x');
  writeFileSync(join(outside, 'secret.txt'), 'x');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'escape.jpg'));
  symlinkSync(join(root, 'sub', 'in.jpg'), join(root, 'alias.jpg'));
  symlinkSync(root, join(dir, 'root-link'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the real path of a file inside', async () => {
    expect(await realInside(join(root, 'sub', 'in.jpg'), root, realpath)).toBe(join(root, 'sub', 'in.jpg'));
    expect(await realInside(join(root, 'alias.jpg'), root, realpath)).toBe(join(root, 'sub', 'in.jpg'));
  });
  it('refuses a symlink that leads out of the root', async () => {
    expect(isInside(join(root, 'escape.jpg'), root)).toBe(true); // lexically inside…
    expect(await realInside(join(root, 'escape.jpg'), root, realpath)).toBeNull(); // …really outside
  });
  it('accepts a root reached through a symlink', async () => {
    expect(await realInside(join(dir, 'root-link', 'sub', 'in.jpg'), join(dir, 'root-link'), realpath)).toBe(join(root, 'sub', 'in.jpg'));
  });
  it('returns null for a missing file', async () => {
    expect(await realInside(join(root, 'nope.jpg'), root, realpath)).toBeNull();
  });
});

describe('contentTypeOf: one MIME table for the server and the desktop protocol', () => {
  it('knows the UI files and photo formats, case-insensitively', () => {
    expect(contentTypeOf('/x/index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('a.JPG')).toBe('image/jpeg');
    expect(contentTypeOf('a.heic')).toBe('image/heic');
  });
  it('knows nothing it should not serve', () => {
    expect(contentTypeOf('a.exe')).toBeUndefined();
    expect(contentTypeOf('Makefile')).toBeUndefined();
  });
});
