/**
 * The CLI asking a running app that answers late (found by the soak under load average 15+): a
 * real app process owns the library and answers on its local socket, but its event loop is
 * blocked when the CLI says hello. The CLI waits for it (seconds, not 1 s), and when it never
 * answers, says who holds the library instead of trying to open it (the owner lock refuses that).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runLeanlensAsync } from '../fixtures/leanlens-cli.ts';

const FIXTURE = resolve('test/fixtures/slow-owner.ts');
let root: string;
let data: string;
let owner: ChildProcess;
let ownerOut = '';

function nextLine(word: string): Promise<void> {
  return new Promise((done, fail) => {
    const seen = ownerOut.length;
    const t = setInterval(() => {
      if (ownerOut.slice(seen).includes(word)) {
        clearInterval(t);
        done();
      } else if (owner.exitCode !== null) {
        clearInterval(t);
        fail(new Error(`the owner exited ${owner.exitCode}`));
      }
    }, 10);
  });
}

const cliAsync = (...args: string[]) => runLeanlensAsync(data, args);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-slow-owner-'));
  data = join(root, 'data');
  owner = spawn(process.execPath, ['--import', 'tsx', FIXTURE, data], { stdio: ['pipe', 'pipe', 'inherit'] });
  owner.stdout!.on('data', (d) => (ownerOut += d));
  await nextLine('ready');
}, 120_000);

afterAll(async () => {
  if (owner.exitCode === null) {
    const gone = new Promise((done) => owner.once('exit', done));
    owner.kill('SIGKILL');
    await gone;
  }
  rmSync(root, { recursive: true, force: true });
});

/** Blocks the owner's event loop until the returned function is called. */
async function block(name: string): Promise<() => Promise<void>> {
  const release = join(root, `release-${name}`);
  const blocking = nextLine('blocking');
  owner.stdin!.write(`block ${release}\n`);
  await blocking;
  const unblocked = nextLine('unblocked');
  return async () => {
    writeFileSync(release, '');
    await unblocked;
  };
}

describe('a running app that answers late', () => {
  it('is waited for: its answer comes seconds after the hello, and the CLI prints it', async () => {
    const release = await block('a');
    // Blocked until 4 s from here: the CLI starts and says hello within that time (or later, if
    // this machine is slower than that, which proves less but still must work).
    const started = Date.now();
    const released = new Promise((r) => setTimeout(r, 4000)).then(release);
    const r = await cliAsync('status', '--json');
    await released;
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ files: 0, dataDir: data });
    expect(r.err).toContain(`answered by the running LeanLens, pid ${owner.pid}`);
    expect(Date.now() - started).toBeGreaterThan(2000);
  }, 60_000);

  it('that never answers in time: the CLI names it and does not open the library itself', async () => {
    const release = await block('b');
    let r: Awaited<ReturnType<typeof cliAsync>>;
    try {
      r = await cliAsync('search', 'red');
    } finally {
      await release();
    }
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`the slow test owner, pid ${owner.pid}, started .*\\) has the library in .* open, but could not be asked \\(.*did not answer within`));
    expect(r.err).toContain('does not open it itself');
    // Neither the fallback's words nor the lock's refusal of an attempt to open it.
    expect(r.err).not.toMatch(/Opening the library here|opening the library here|is using the library/);
    console.log(`what the CLI said:\n${r.err}`);
  }, 120_000);
});
