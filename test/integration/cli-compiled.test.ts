/**
 * The compiled CLI (scripts/build-cli.mjs → dist/cli-bundle) as bin/leanlens.mjs runs it, in real
 * child processes. `tsx` is made unloadable (test/fixtures/forbid-modules.mjs), so every command
 * here provably runs compiled code, workers included: the encoder's worker would otherwise start
 * through the tsx shim. Commands that need no model must not load ONNX Runtime, sharp, hnswlib or
 * the lab at all. Timings are the bench's business (test/bench/cli.bench.ts), not asserted here.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeColourLibrary } from '../fixtures/photos.ts';
// @ts-expect-error plain JS build script without type declarations
import { buildCli } from '../../scripts/build-cli.mjs';
// @ts-expect-error plain JS module without type declarations
import { sourcesStamp, stampMatches } from '../../bin/sources-stamp.mjs';

const BIN = resolve('bin/leanlens.mjs');
const FORBID = resolve('test/fixtures/forbid-modules.mjs');
const HEAVY = ['onnxruntime-node', 'sharp', 'hnswlib-node', 'lab'];
let root: string;
let photos: string;
let data: string;

function cli(forbidden: string[], ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', FORBID, BIN, '--data', data, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, LEANLENS_FORBID_MODULES: ['tsx', ...forbidden].join(','), LEANLENS_STANDALONE: '', LEANLENS_FROM_SOURCE: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  // Rebuilt only when main/ changed: other test files may be running the current build right now.
  let built: unknown = null;
  try {
    built = JSON.parse(readFileSync(resolve('dist/cli-bundle/sources.json'), 'utf8'));
  } catch {
    // no build yet
  }
  if (!stampMatches(built, sourcesStamp(resolve('main')))) await buildCli();
  root = mkdtempSync(join(tmpdir(), 'leanlens-cli-compiled-'));
  photos = join(root, 'photos');
  data = join(root, 'data');
  mkdirSync(photos);
  await writeColourLibrary(photos);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the compiled CLI', () => {
  it('the guard works: a forbidden package really fails to load', () => {
    const r = spawnSync(process.execPath, ['--import', FORBID, '-e', "await import('sharp')", '--input-type=module'], {
      encoding: 'utf8',
      env: { ...process.env, LEANLENS_FORBID_MODULES: 'sharp' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden module: sharp/);
  });

  it('prints help, token ids and usage errors without loading the app', () => {
    const all = [...HEAVY, 'better-sqlite3', 'zod', 'chokidar'];
    const help = cli(all, '--help');
    expect(help.code, help.err).toBe(0);
    expect(help.out).toMatch(/Usage: leanlens/);
    const unknown = cli(all, 'frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command "frobnicate"/);
    const badFlag = cli(all, 'search', 'red', '--limit', 'lots');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toMatch(/--limit must be a positive whole number/);
    const badAlbums = cli(all, 'albums', 'save', 'Reds');
    expect(badAlbums.code).toBe(2);
    expect(badAlbums.err).toMatch(/usage: leanlens albums save <name> <text…>/);
    const ids = cli(HEAVY, 'tokenize', 'a photo of a cat', '--json');
    expect(ids.code, ids.err).toBe(0);
    expect((JSON.parse(ids.out) as number[]).slice(0, 7)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
  });

  it('indexes, searches and finds similar photos (compiled encoder worker, migrations, bundled models)', () => {
    expect(cli([], 'folders', 'add', photos, '--json').code).toBe(0);
    const indexed = cli([], 'index', '--json');
    expect(indexed.code, indexed.err).toBe(0);
    expect(JSON.parse(indexed.out)).toMatchObject({ files: 11, indexed: 11, model: 'color-oracle' });
    // Searching loads the model but never decodes a photo: no sharp.
    const found = cli(['sharp', 'lab'], 'search', 'red', '--limit', '2', '--json');
    expect(found.code, found.err).toBe(0);
    expect((JSON.parse(found.out) as { path: string }[])[0]!.path).toBe(join(photos, 'red.jpg'));
    const like = cli(['lab'], 'similar', join(photos, 'red.jpg'), '--limit', '1', '--json');
    expect(like.code, like.err).toBe(0);
    expect((JSON.parse(like.out) as { path: string }[])[0]!.path).not.toBe(join(photos, 'red.jpg'));
  });

  it("makes a lab variant in the lab's compiled tower worker", () => {
    const r = cli([], 'lab', 'variant', 'tiny-clip', '--fp16', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ id: 'tiny-clip-fp16' });
  });

  it('answers status without ONNX Runtime, sharp, hnswlib or the lab', () => {
    const r = cli(HEAVY, 'status', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ files: 11, indexed: 11, model: 'color-oracle' });
  });
});

describe('the build stamp', () => {
  it('goes stale when a source file changes, appears or disappears', () => {
    const dir = join(root, 'stamp');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.ts'), 'a');
    writeFileSync(join(dir, 'sub', 'b.ts'), 'b');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'a.ts'), old, old);
    utimesSync(join(dir, 'sub', 'b.ts'), old, old);
    const built = sourcesStamp(dir);
    expect(stampMatches(built, sourcesStamp(dir))).toBe(true);
    writeFileSync(join(dir, 'sub', 'b.ts'), 'b2');
    expect(stampMatches(built, sourcesStamp(dir))).toBe(false);
    const rebuilt = sourcesStamp(dir);
    writeFileSync(join(dir, 'c.ts'), 'c');
    utimesSync(join(dir, 'c.ts'), old, old);
    expect(stampMatches(rebuilt, sourcesStamp(dir))).toBe(false);
    rmSync(join(dir, 'c.ts'));
    rmSync(join(dir, 'a.ts'));
    expect(stampMatches(rebuilt, sourcesStamp(dir))).toBe(false);
    // No sources at all (an installed package): the build is all there is.
    expect(stampMatches(rebuilt, sourcesStamp(join(dir, 'missing')))).toBe(true);
  });
});
