/**
 * Issue 15 §3, damaged files, with real processes and real files: indexing leaves a healthy
 * backup; a database overwritten in the middle, truncated, or replaced by garbage is detected at
 * open with a message that says what to do; `leanlens repair` restores the backup, and after
 * `index` the library searches again.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDatabaseFile } from '../../main/services/store/index.ts';
import { damageVectorsPage } from '../fixtures/damage-database.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';
import { runLeanlens } from '../fixtures/leanlens-cli.ts';

let root: string;
let photos: string;
let pristine: string;

const cli = (data: string, ...args: string[]) => runLeanlens(data, args);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-damaged-'));
  photos = join(root, 'photos');
  mkdirSync(photos);
  await writeColourLibrary(photos);
  pristine = join(root, 'pristine');
  expect(cli(pristine, 'folders', 'add', photos).code).toBe(0);
  const indexed = cli(pristine, 'index');
  expect(indexed.code, indexed.err).toBe(0);
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the indexed library to damage. */
function copyLibrary(name: string): string {
  const data = join(root, name);
  cpSync(pristine, data, { recursive: true });
  return data;
}

const damages: Record<string, (db: string) => void> = {
  'overwritten in the middle': (db) => {
    const bytes = readFileSync(db);
    bytes.fill(0xa5, 4096, bytes.length - 4096);
    writeFileSync(db, bytes);
  },
  truncated: (db) => truncateSync(db, Math.floor(statSync(db).size / 3)),
  'not a database at all': (db) => writeFileSync(db, Buffer.alloc(64 * 1024, 0x42)),
  // A page that opening and `status` never read: only the integrity check at open finds it.
  'one page of the vectors table': damageVectorsPage,
};

describe('a damaged database', () => {
  it('indexing leaves one healthy backup in <data>/backups', () => {
    const backups = readdirSync(join(pristine, 'backups'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^library-\d+\.db$/);
    expect(checkDatabaseFile(join(pristine, 'backups', backups[0]!))).toEqual([]);
    // A second session the same day makes no second backup.
    expect(cli(pristine, 'index').code).toBe(0);
    expect(readdirSync(join(pristine, 'backups'))).toEqual(backups);
  });

  for (const [damage, apply] of Object.entries(damages)) {
    it(`${damage}: detected at open with what to do; repair restores the backup and search works again`, () => {
      const data = copyLibrary(damage.replace(/ /g, '-'));
      apply(join(data, 'library.db'));

      const status = cli(data, 'status');
      expect(status.code).toBe(1);
      expect(status.err).toMatch(/The LeanLens database .*library\.db is damaged \(.+\)\. Run "leanlens repair" to restore the backup of \d{4}-/);

      const repaired = cli(data, 'repair', '--json');
      expect(repaired.code, repaired.err).toBe(0);
      const r = JSON.parse(repaired.out);
      expect(r.state).toBe('restored');
      expect(r.problems.length).toBeGreaterThan(0);
      expect(existsSync(r.movedAside)).toBe(true);

      const indexed = cli(data, 'index', '--json');
      expect(indexed.code, indexed.err).toBe(0);
      expect(JSON.parse(indexed.out)).toMatchObject({ files: 11, indexed: 11, pending: 0 });
      const red = cli(data, 'search', 'red', '--json', '--limit', '1');
      expect(red.code, red.err).toBe(0);
      expect(JSON.parse(red.out)[0].path).toBe(join(photos, 'red.jpg'));
      expect(cli(data, 'repair').out).toMatch(/passed its integrity check; nothing to repair/);
    }, 240_000);
  }

  it('without a backup, repair says so and exits non-zero', () => {
    const data = copyLibrary('no-backup');
    rmSync(join(data, 'backups'), { recursive: true });
    damages['overwritten in the middle']!(join(data, 'library.db'));
    expect(cli(data, 'status').err).toMatch(/There is no backup yet: move the file aside/);
    const r = cli(data, 'repair');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no healthy backup to restore/);
  });
});
