/**
 * Two processes, one data folder (issue 15 §3, §5.2, §5.3), with real processes: the owner lock
 * (main/services/store/owner.ts) held by a child is seen by this process with the child's pid; a
 * `kill -9` owner leaves no stale lock; two `leanlens index` runs never both write; a second
 * process never resets the folder states of the one that watches.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { claimDataFolder, LibraryInUse, libraryHolder } from '../../main/services/store/index.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';
import { BIN, runLeanlens, runLeanlensAsync } from '../fixtures/leanlens-cli.ts';

const OWNER_MODULE = resolve('main/services/store/owner.ts');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-two-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cli = (data: string, args: string[], env: Record<string, string> = {}) => runLeanlens(data, args, { env });

const cliAsync = (data: string, args: string[]) => runLeanlensAsync(data, args);

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}

/** A child process that claims the data folder and keeps it until killed. */
async function childOwner(data: string): Promise<ChildProcess> {
  const code = `import { claimDataFolder } from ${JSON.stringify(OWNER_MODULE)};
    claimDataFolder(${JSON.stringify(data)}, 'the test child'); console.log('ready'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (d) => String(d).includes('ready') && ready());
    child.once('exit', (c) => fail(new Error(`child exited ${c}`)));
  });
  return child;
}

describe('one writer per data folder', () => {
  it('refuses a second owner, naming the first one, and frees the folder when the owner is killed with -9', async () => {
    const data = join(root, 'lock');
    mkdirSync(data);
    const child = await childOwner(data);
    try {
      let refused: unknown = null;
      try {
        claimDataFolder(data, 'this test').release();
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(LibraryInUse);
      expect((refused as LibraryInUse).owner?.pid).toBe(child.pid);
      expect((refused as Error).message).toMatch(new RegExp(`the test child, pid ${child.pid}, started \\d{4}-\\d\\d-\\d\\d`));
      // Looking without taking (what the CLI asks when the running app does not answer).
      expect(libraryHolder(data)?.owner?.pid).toBe(child.pid);
    } finally {
      await stop(child, 'SIGKILL');
    }
    expect(libraryHolder(data)).toBeNull();
    // The kernel released the dead owner's lock; its description is still there, and is overwritten.
    expect(JSON.parse(readFileSync(join(data, 'leanlens.owner.json'), 'utf8')).pid).toBe(child.pid);
    const mine = claimDataFolder(data, 'this test');
    expect(JSON.parse(readFileSync(join(data, 'leanlens.owner.json'), 'utf8')).pid).toBe(process.pid);
    mine.release();
    expect(existsSync(join(data, 'leanlens.owner.json'))).toBe(false);
  });

  it('two concurrent `leanlens index` runs: one indexes, the other says who holds the library; nothing is written twice', async () => {
    const data = join(root, 'concurrent');
    const photos = join(root, 'concurrent-photos');
    mkdirSync(photos);
    await writeColourLibrary(photos);
    expect(cli(data, ['folders', 'add', photos]).code).toBe(0);
    const [a, b] = await Promise.all([cliAsync(data, ['index', '--json']), cliAsync(data, ['index', '--json'])]);
    const ran = [a, b].filter((r) => r.code === 0);
    const refused = [a, b].filter((r) => r.code !== 0);
    expect(ran, `${a.err}\n${b.err}`).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.err).toMatch(/LeanLens \(leanlens index, pid \d+, started .*\) is using the library/);
    expect(JSON.parse(ran[0]!.out)).toMatchObject({ files: 11, indexed: 11, pending: 0 });
  });

  it('a second process neither resets the folder state of a watching app nor opens the library beside it', async () => {
    const data = join(root, 'watching');
    const photos = join(root, 'watching-photos');
    mkdirSync(photos);
    await writeColourLibrary(photos, ['red', 'blue']);
    expect(cli(data, ['folders', 'add', photos]).code).toBe(0);
    const watcher = spawn(process.execPath, [BIN, '--data', data, 'index', '--watch'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let werr = '';
    watcher.stderr!.on('data', (d) => (werr += d));
    try {
      const deadline = Date.now() + 90_000;
      while (!werr.includes('Watching')) {
        if (watcher.exitCode !== null || Date.now() > deadline) throw new Error(`index --watch did not start: ${werr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // The socket and the watcher's state take a moment after the message.
      const watching = async () => {
        const r = await cliAsync(data, ['folders', 'list', '--json']);
        return r.code === 0 ? (JSON.parse(r.out) as { state: string }[])[0]?.state : r.err;
      };
      await expect.poll(watching, { timeout: 30_000 }).toBe('watching');

      // A process told to open the library itself is refused, with the owner named…
      const standalone = cli(data, ['status', '--json'], { LEANLENS_STANDALONE: '1' });
      expect(standalone.code).toBe(1);
      expect(standalone.err).toMatch(new RegExp(`leanlens index, pid ${watcher.pid}`));
      const second = cli(data, ['index']);
      expect(second.code).toBe(1);
      expect(second.err).toMatch(/is using the library/);
      // …so the watcher's folder state is still its own.
      expect(await watching()).toBe('watching');
      // Reads and folder calls are forwarded to the owner.
      const status = cli(data, ['status', '--json']);
      expect(status.code, status.err).toBe(0);
      expect(status.err).toMatch(new RegExp(`answered by the running LeanLens, pid ${watcher.pid}`));
    } finally {
      await stop(watcher);
    }
    expect(watcher.exitCode, werr).toBe(0);
  });
});
