/**
 * Open after a crash on a big database (issue 15 §1: ≤ 5 s at 1M photos, where quick_check alone
 * takes 12–20 s): with real files, a real owner killed with -9, real SQLite and a real check
 * process. The size above which the check runs in the background is lowered to 0 here, so the
 * colour library stands for a big one. A healthy library searches while the check is held
 * (SIGSTOP on the check's own process), and nothing is indexed and no folder changes until it
 * passes; a damaged one opens, and the check reports the damage where status and indexing show it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createApp, type App } from '../../main/app/index.ts';
import { damageVectorsPage } from '../fixtures/damage-database.ts';
import { writeColourLibrary, writeSolidPhoto } from '../fixtures/photos.ts';
import { runLeanlens } from '../fixtures/leanlens-cli.ts';

const OWNER_MODULE = resolve('main/services/store/owner.ts');
let root: string;
let photos: string;
let pristine: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-crash-check-'));
  photos = join(root, 'photos');
  await writeColourLibrary(photos);
  pristine = join(root, 'pristine');
  expect(runLeanlens(pristine, ['folders', 'add', photos]).code).toBe(0);
  const indexed = runLeanlens(pristine, ['index']);
  expect(indexed.code, indexed.err).toBe(0);
}, 180_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the indexed library whose owner then died with kill -9 (it leaves its description). */
async function crashedCopy(name: string, damage?: (db: string) => void): Promise<string> {
  const data = join(root, name);
  cpSync(pristine, data, { recursive: true });
  damage?.(join(data, 'library.db'));
  const code = `import { claimDataFolder } from ${JSON.stringify(OWNER_MODULE)};
    claimDataFolder(${JSON.stringify(data)}, 'the crashed owner'); console.log('ready'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ready) => child.stdout!.on('data', (d) => String(d).includes('ready') && ready()));
  const gone = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await gone;
  expect(existsSync(join(data, 'leanlens.owner.json'))).toBe(true);
  return data;
}

/** The pid of this process's background check (its own process), once it is running. */
async function checkProcess(): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const pids = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'integrity-process'], { encoding: 'utf8' }).trim().split('\n');
      return Number(pids[0]);
    } catch {
      if (Date.now() > deadline) throw new Error('no database check process was started');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const searchTop = async (app: App, text: string) => (await app['search.text']({ text, limit: 1, relevance: 'all' })).hits[0]?.photo.path;

describe('open after a crash, a big database (threshold lowered)', () => {
  it('a healthy one searches while the check runs; indexing and folder changes wait for it', async () => {
    // One photo was still waiting to be indexed when the owner died.
    const waiting = join(photos, 'blue.jpg');
    const data = await crashedCopy('healthy', (db) => {
      const conn = new Database(db);
      conn.prepare("UPDATE photos SET status = 'pending' WHERE path = ?").run(waiting);
      conn.prepare('DELETE FROM vectors WHERE photo_id = (SELECT id FROM photos WHERE path = ?)').run(waiting);
      conn.close();
    });
    const late = join(photos, 'late-green.jpg');
    await writeSolidPhoto(late, [20, 200, 30], { noise: 6 });
    const other = join(root, 'other photos');
    await writeColourLibrary(other, ['blue']);
    let app: App | null = null;
    try {
      // A one-shot command (not live) opens without the check and leaves it owed.
      app = await createApp({ dataDir: data, checkAtOpenBytes: 0 });
      expect((await app['index.status']({})).databaseCheck).toMatch(/^Not checked since LeanLens last stopped without closing/);
      expect(await searchTop(app, 'red')).toBe(join(photos, 'red.jpg'));
      await app.close();
      app = null;
      expect(existsSync(join(data, 'library.db.unchecked'))).toBe(true);
      expect(existsSync(join(data, 'leanlens.owner.json'))).toBe(false);

      // The app: open returns at once, the check runs in its own process; hold it there.
      app = await createApp({ dataDir: data, live: true, checkAtOpenBytes: 0 });
      const pid = await checkProcess();
      let added = false;
      let adding: Promise<void> = Promise.resolve();
      process.kill(pid, 'SIGSTOP');
      try {
        expect((await app['index.status']({})).databaseCheck).toMatch(/^Checking the database after LeanLens stopped without closing/);
        expect(await searchTop(app, 'red')).toBe(join(photos, 'red.jpg'));
        expect(await searchTop(app, 'yellow')).toBe(join(photos, 'yellow.jpg'));
        adding = app['folders.add']({ path: other }).then(() => void (added = true));
        // Long enough for the scan to find the new photo and the indexer to encode it, were they allowed.
        await new Promise((r) => setTimeout(r, 3000));
        const held = await app['index.status']({});
        expect(held).toMatchObject({ files: 11, indexed: 10, pending: 1 });
        expect(held.progress.state).not.toBe('running');
        expect(added).toBe(false);
        expect((await app['folders.list']({})).map((f) => f.path)).toEqual([photos]);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await adding;
      await waitFor('the check to pass and the late photo and the new folder to be indexed', async () => {
        const s = await app!['index.status']({});
        return s.databaseCheck === undefined && s.files === 13 && s.indexed === 13;
      });
      const greens = (await app['search.text']({ text: 'green', limit: 2, relevance: 'all' })).hits.map((h) => h.photo.path);
      expect(greens).toContain(late);
      expect(existsSync(join(data, 'library.db.unchecked'))).toBe(false);
    } finally {
      await app?.close();
      rmSync(late, { force: true });
    }
  }, 180_000);

  it('a damaged one opens, and the check reports the damage with what to do; nothing is indexed', async () => {
    // A page of the vectors table: opening and status never read it, only the check finds it.
    const data = await crashedCopy('damaged', damageVectorsPage);
    const late = join(root, 'damaged-late');
    mkdirSync(late);
    const damaged = /^The LeanLens database .*library\.db is damaged \(.+\)\. Run "leanlens repair" to restore the backup of \d{4}-/;
    let app: App | null = null;
    try {
      app = await createApp({ dataDir: data, live: true, checkAtOpenBytes: 0 });
      await waitFor('the check to find the damage', async () => damaged.test((await app!['index.status']({})).databaseCheck ?? ''));
      const s = await app['index.status']({});
      // Where the app shows indexing (the Library view's alert, `status`'s "Stopped:" line).
      await waitFor('indexing to say it stopped', async () => /Indexing stopped: The LeanLens database .* is damaged/.test((await app!['index.status']({})).progress.stopped ?? ''));
      expect(s).toMatchObject({ files: 11, indexed: 11 });
      await expect(app['folders.add']({ path: late })).rejects.toThrow(damaged);
    } finally {
      await app?.close();
    }
    // Still owed: the next command checks again (this small database at open, as every command does).
    expect(existsSync(join(data, 'library.db.unchecked'))).toBe(true);
    const status = runLeanlens(data, ['status']);
    expect(status.code).toBe(1);
    expect(status.err).toMatch(/The LeanLens database .*library\.db is damaged/);
    const repaired = runLeanlens(data, ['repair', '--json']);
    expect(repaired.code, repaired.err).toBe(0);
    expect(JSON.parse(repaired.out).state).toBe('restored');
    expect(existsSync(join(data, 'library.db.unchecked'))).toBe(false);
  }, 180_000);
});
