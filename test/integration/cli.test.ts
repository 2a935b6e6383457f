/**
 * The `leanlens` command as a user runs it: a real child process through bin/leanlens.mjs,
 * on a temporary library of generated photos, with the bundled color-oracle model.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeColourLibrary, writeBadFiles } from '../fixtures/photos.ts';

const BIN = resolve('bin/leanlens.mjs');
let root: string;
let photos: string;
let data: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--data', data, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-cli-'));
  photos = join(root, 'My Photos ✓');
  data = join(root, 'data');
  mkdirSync(photos);
  await writeColourLibrary(photos);
  await writeBadFiles(join(photos, 'bad'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('leanlens CLI', () => {
  it('adds a folder, indexes it and finds the red photo first for "red"', () => {
    const added = cli('folders', 'add', photos, '--json');
    expect(added.code, added.err).toBe(0);
    expect(JSON.parse(added.out)).toMatchObject({ path: photos, photoCount: 15 });

    const indexed = cli('index', '--json');
    expect(indexed.code, indexed.err).toBe(0);
    const status = JSON.parse(indexed.out);
    expect(status).toMatchObject({ files: 15, indexed: 11, pending: 0, failed: 4, model: 'color-oracle' });

    // --all: every photo, ranked; by default only the relevant ones (the query's own cut-off).
    const found = cli('search', 'red', '--limit', '3', '--all', '--json');
    expect(found.code, found.err).toBe(0);
    const hits = JSON.parse(found.out) as { path: string; score: number }[];
    expect(hits).toHaveLength(3);
    expect(hits[0]!.path).toBe(join(photos, 'red.jpg'));
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it('returns the relevant photos by default; reads the query language: a negative word pushes its photos away, a filter word restricts, bad syntax says why', () => {
    const relevant = cli('search', 'red');
    expect(relevant.code, relevant.err).toBe(0);
    const [, n, below] = /^(\d+) relevant · (\d+) below the adaptive cut-off/.exec(relevant.out)!;
    expect(Number(n) + Number(below)).toBe(11);
    expect(Number(n)).toBeLessThan(11);
    expect(relevant.out).toContain(join(photos, 'red.jpg'));
    const ranked = (...args: string[]) => (JSON.parse(cli('search', ...args, '--all', '--json').out) as { path: string }[]).map((h) => h.path);
    const plain = ranked('red');
    const pushed = ranked('red', '-red');
    expect(plain.indexOf(join(photos, 'red.jpg'))).toBe(0);
    expect(pushed).not.toContain(join(photos, 'red.jpg')); // dropped by the negative's own cut-off
    expect(ranked('red type:png')).toEqual([]); // every photo here is a JPEG
    const bad = cli('search', 'red "car');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/never closed/);
  });

  it('reports failed files and the execution provider in status --json', () => {
    const r = cli('status', '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.errors.map((e: { path: string }) => e.path).sort()).toEqual(
      ['corrupt.jpg', 'notanimage.jpg', 'truncated.jpg', 'zero-byte.jpg'].map((f) => join(photos, 'bad', f)),
    );
    expect(s.errors.find((e: { path: string }) => e.path.endsWith('zero-byte.jpg')).reason).toMatch(/empty/);
    expect(s.execution.provider).toBe('cpu');
  });

  it('applies --min-score, and similar finds photos like a library photo', () => {
    const cut = JSON.parse(cli('search', 'blue', '--min-score', '0.5', '--json').out) as { path: string }[];
    expect(cut.map((h) => h.path)).toEqual([join(photos, 'blue.jpg')]);
    const like = cli('similar', join(photos, 'red.jpg'), '--limit', '2', '--json');
    expect(like.code, like.err).toBe(0);
    const hits = JSON.parse(like.out) as { path: string }[];
    expect(hits).toHaveLength(2);
    expect(hits.map((h) => h.path)).not.toContain(join(photos, 'red.jpg'));
  });

  it('prints the 77 token ids', () => {
    const r = cli('tokenize', 'a photo of a cat', '--json');
    const ids = JSON.parse(r.out) as number[];
    expect(ids).toHaveLength(77);
    expect(ids.slice(0, 7)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
  });

  it('fails with a clear message and a non-zero exit on bad input', () => {
    const missing = cli('folders', 'add', join(root, 'nope'));
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/nope/);
    const badFlag = cli('search', 'red', '--limit', 'lots');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toMatch(/--limit must be a positive whole number/);
    const unknown = cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command "frobnicate"/);
    const badModel = cli('models', 'use', 'no-such-model');
    expect(badModel.code).toBe(1);
    expect(badModel.err).toMatch(/no-such-model/);
  });

  it('lists models with the active one marked', () => {
    const models = JSON.parse(cli('models', 'list', '--json').out) as { id: string; active: boolean }[];
    expect(models.find((m) => m.id === 'color-oracle')?.active).toBe(true);
    expect(models.some((m) => m.id === 'tiny-clip')).toBe(true);
  });
});
