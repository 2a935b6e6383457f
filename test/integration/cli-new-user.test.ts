/**
 * Issue 15 §5: what a new user met on the command line, each as a real `leanlens` process on a
 * temporary library: held deletions confirmed or restored from the CLI and reported by status and
 * index; search says what is missing; parsing refuses what it used to take silently; messages say
 * things once, in the CLI's own words, with plurals; a newline in a file name keeps one line.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeColourLibrary, writeSolidPhoto } from '../fixtures/photos.ts';
import { runLeanlens } from '../fixtures/leanlens-cli.ts';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-newuser-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (data: string, ...args: string[]) => runLeanlens(data, args);

describe('parsing (§5.7)', () => {
  it('a mistyped command or sub-command creates nothing in the data folder', () => {
    const data = join(root, 'typo');
    for (const args of [['serach', 'red'], ['folders', 'lsit'], ['models', 'lst'], ['lab', 'bogus'], ['folders']]) {
      const r = cli(data, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/unknown|missing sub-command/);
    }
    expect(existsSync(data)).toBe(false);
  });

  it('options a command does not take are refused, naming the ones it takes', () => {
    const data = join(root, 'options');
    const r = cli(data, 'status', '--limit', '3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/leanlens status has no option --limit \(it takes --json\)/);
    expect(cli(data, 'folders', 'list', '--watch').code).toBe(2);
    expect(cli(data, 'tokenize', 'a', '--port', '1').code).toBe(2);
    expect(existsSync(join(data, 'library.db'))).toBe(false);
  });

  it("--min-score '' is refused; --min-score -0.1 works like --min-score=-0.1", () => {
    const data = join(root, 'minscore');
    const empty = cli(data, 'search', 'red', '--min-score', '');
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/--min-score must be a number between -1 and 1/);
    // Both spellings get past parsing to the same place: an empty library (see below).
    const spaced = cli(data, 'search', 'red', '--min-score', '-0.1');
    const joined = cli(data, 'search', 'red', '--min-score=-0.1');
    expect(spaced.err).not.toMatch(/ambiguous|must be a number/);
    expect([spaced.code, spaced.err]).toEqual([joined.code, joined.err]);
  });
});

describe('search on a library that cannot answer (§5.4)', () => {
  it('no folders: says so and exits non-zero; photos waiting: says how many and to run index', async () => {
    const data = join(root, 'empty');
    const none = cli(data, 'search', 'red');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no folders yet; add one with: leanlens folders add/);
    expect(none.out).toBe('');

    const photos = join(root, 'waiting-photos');
    mkdirSync(photos);
    await writeColourLibrary(photos, ['red', 'blue', 'green']);
    const added = cli(data, 'folders', 'add', photos);
    expect(added.code, added.err).toBe(0);
    const waiting = cli(data, 'search', 'red');
    expect(waiting.code).toBe(1);
    expect(waiting.err).toMatch(/3 photos are waiting to be indexed; run: leanlens index/);
    expect(cli(data, 'similar', join(photos, 'red.jpg')).err).toMatch(/waiting to be indexed/);
  });
});

describe('held deletions from the CLI (§5.1) and file names (§5.7)', () => {
  it('status and index report a held folder with what to do; confirm applies it, restore takes back what returned', async () => {
    const data = join(root, 'held');
    const photos = join(root, 'held-photos');
    mkdirSync(photos);
    await writeColourLibrary(photos);
    const names = ['red', 'green', 'blue', 'yellow', 'purple'].map((n) => join(photos, `${n}.jpg`));
    expect(cli(data, 'folders', 'add', photos).code).toBe(0);
    expect(cli(data, 'index').code).toBe(0);

    const stash = join(root, 'held-stash');
    mkdirSync(stash);
    names.forEach((p, i) => renameSync(p, join(stash, `${i}.jpg`)));
    const indexed = cli(data, 'index', '--json');
    expect(indexed.code, indexed.err).toBe(0);
    expect(JSON.parse(indexed.out).attention).toEqual([
      expect.objectContaining({ path: photos, state: 'held', held: 5, action: expect.stringContaining('leanlens folders confirm|restore') }),
    ]);
    const status = cli(data, 'status');
    expect(status.out).toMatch(/Held: +.*: 5 photos vanished at once/);
    expect(status.out).toContain(`leanlens folders confirm ${photos}`);
    // Held photos are not offered by search.
    const red = JSON.parse(cli(data, 'search', 'red', '--json').out) as { path: string }[];
    expect(red.map((h) => h.path)).not.toContain(names[0]);

    // Two come back: restore keeps them as they were; three stay held.
    renameSync(join(stash, '0.jpg'), names[0]!);
    renameSync(join(stash, '1.jpg'), names[1]!);
    const restored = cli(data, 'folders', 'restore', photos);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toMatch(/2 photos of .* found again/);
    expect(restored.out).toMatch(/3 photos still missing/);
    expect(JSON.parse(cli(data, 'search', 'red', '--json', '--limit', '1').out)[0].path).toBe(names[0]);

    const confirmed = cli(data, 'folders', 'confirm', photos);
    expect(confirmed.code, confirmed.err).toBe(0);
    expect(confirmed.out).toMatch(/Removed 3 missing photos of/);
    const after = JSON.parse(cli(data, 'status', '--json').out);
    expect(after.attention).toEqual([]);
    expect(after.files).toBe(8); // 11 - 3
  });

  it('a newline in a file name stays on one line of the text table; "1 photo" is singular', async () => {
    const data = join(root, 'names');
    const photos = join(root, 'names-photos');
    mkdirSync(photos);
    await writeSolidPhoto(join(photos, 'red\nsunset.jpg'), [220, 30, 30], { width: 32, height: 24 });
    const added = cli(data, 'folders', 'add', photos);
    expect(added.out).toMatch(/\(1 photo\)/);
    expect(cli(data, 'index').code).toBe(0);
    const found = cli(data, 'search', 'red');
    expect(found.code, found.err).toBe(0);
    // A summary line ("1 relevant · …") comes first; the photo's row is one line, its newline escaped.
    const rows = found.out.trimEnd().split('\n').filter((l) => l.includes('sunset'));
    expect(rows).toEqual([expect.stringContaining('red\\nsunset.jpg')]);
    // --json keeps the exact name.
    expect(JSON.parse(cli(data, 'search', 'red', '--json').out)[0].path).toBe(join(photos, 'red\nsunset.jpg'));
  });

  it('messages say it once and name no desktop screen', () => {
    const data = join(root, 'names');
    const notImage = join(root, 'not-an-image.jpg');
    writeFileSync(notImage, 'hello');
    const r = cli(data, 'similar', notImage);
    expect(r.code).toBe(1);
    expect(r.err.match(/not a readable image/gi)).toHaveLength(1);
    expect(r.err).not.toMatch(/dropped file/);
    const unknown = cli(data, 'models', 'use', 'no-such-model');
    expect(unknown.err).toMatch(/no-such-model/);
    expect(unknown.err).not.toMatch(/in Models|Models →/);
  });
});
