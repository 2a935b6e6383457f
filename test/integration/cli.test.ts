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

describe('leanlens albums', () => {
  it('saves a search as an album, lists it with its count, shows its photos, renames and removes it', () => {
    const saved = cli('albums', 'save', 'Red things', 'red', '--min-score', '0.5', '--folder', photos, '--json');
    expect(saved.code, saved.err).toBe(0);
    const album = JSON.parse(saved.out);
    expect(album).toMatchObject({ name: 'Red things', query: { text: 'red', minScore: 0.5 }, savedWith: 'color-oracle', problem: null });
    expect(album.query.folderId).toEqual(expect.any(Number));
    // The album holds what the same search finds.
    const direct = JSON.parse(cli('search', 'red', '--min-score', '0.5', '--limit', '100', '--json').out) as { path: string }[];
    expect(album.count).toBe(direct.length);

    const listed = JSON.parse(cli('albums', 'list', '--json').out) as { name: string; count: number }[];
    expect(listed.map((a) => [a.name, a.count])).toEqual([['Red things', direct.length]]);
    const text = cli('albums', 'list');
    expect(text.out).toMatch(/^NAME\s+PHOTOS\s+SEARCH\s+MODEL/);
    expect(text.out).toContain(`"red" score ≥ 0.500 in ${photos}`);

    // Names are found in any case; the words after `show` are the name.
    const shown = cli('albums', 'show', 'red', 'THINGS', '--json');
    expect(shown.code, shown.err).toBe(0);
    const show = JSON.parse(shown.out) as { album: { name: string }; total: number; hits: { path: string }[] };
    expect(show.album.name).toBe('Red things');
    expect(show.hits.map((h) => h.path)).toEqual(direct.map((h) => h.path));
    expect(show.hits[0]!.path).toBe(join(photos, 'red.jpg'));
    expect(cli('albums', 'show', 'Red things').out).toMatch(/^Red things: \d+ photos? match(es)? · "red" score ≥ 0\.500 .* · searching with color-oracle\n/);

    const renamed = cli('albums', 'rename', 'Red things', 'Crimson');
    expect(renamed.code, renamed.err).toBe(0);
    expect(renamed.out).toContain('Renamed "Red things" to "Crimson".');
    const removed = cli('albums', 'remove', 'crimson');
    expect(removed.code, removed.err).toBe(0);
    expect(cli('albums', 'list').out).toMatch(/No smart albums yet/);
  });

  it('refuses a taken name, an unknown album and a save without a search, saying why', () => {
    expect(cli('albums', 'save', 'Blues', 'blue').code).toBe(0);
    const taken = cli('albums', 'save', 'blues', 'navy');
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(/an album named "blues" already exists/);
    const unknown = cli('albums', 'show', 'Greens');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no album named "Greens"/);
    const noQuery = cli('albums', 'save', 'Empty');
    expect(noQuery.code).toBe(2);
    expect(noQuery.err).toMatch(/usage: leanlens albums save <name> <text…>/);
    const badScore = cli('albums', 'save', 'Reds', 'red', '--min-score', '7');
    expect(badScore.code).toBe(2);
    expect(badScore.err).toMatch(/--min-score must be a number between -1 and 1/);
    expect(cli('albums', 'frobnicate').code).toBe(2);
    expect((JSON.parse(cli('albums', 'list', '--json').out) as { name: string }[]).map((a) => a.name)).toEqual(['Blues']);
  });
});
