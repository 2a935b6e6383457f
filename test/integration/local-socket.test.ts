/**
 * The local socket (main/server/local-socket.ts) with real processes: `leanlens serve` runs as a
 * child on a data folder, and `leanlens status/search/similar` in other processes ask it instead
 * of loading the model; raw connections check the token and the argument validation; wrong
 * permissions make the CLI refuse the socket; a socket left by a killed app is cleaned up.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeColourLibrary } from '../fixtures/photos.ts';

const BIN = resolve('bin/leanlens.mjs');
const FORBID = resolve('test/fixtures/forbid-modules.mjs');
/** What a CLI answered by the running app never loads: the model runtime, the decoder, the index, the database. */
const NOT_NEEDED = ['onnxruntime-node', 'sharp', 'hnswlib-node', 'better-sqlite3', 'lab'];
const posix = process.platform !== 'win32';

let root: string;
let photos: string;
let data: string;
let serve: ChildProcess | null = null;

function cli(forbidden: string[], ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', FORBID, BIN, '--data', data, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, LEANLENS_FORBID_MODULES: forbidden.join(','), LEANLENS_STANDALONE: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const infoFile = () => join(data, 'leanlens.sock.json');
const info = () => JSON.parse(readFileSync(infoFile(), 'utf8')) as { pid: number; socket: string; token: string };

/** Starts a long-running command (default `serve --port 0`) and waits until it answers on the socket. */
async function startServe(command = ['serve', '--port', '0']): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, '--data', data, ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const deadline = Date.now() + 90_000;
  while (!(existsSync(infoFile()) && info().pid === child.pid)) {
    if (child.exitCode !== null) throw new Error(`serve exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`serve did not open its socket: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}

/** One raw request over the socket; resolves with the first response line and whether the server then closed. */
function raw(request: unknown): Promise<{ response: Record<string, unknown>; closed: boolean }> {
  return new Promise((done, fail) => {
    const sock = connect(info().socket);
    let buf = '';
    let response: Record<string, unknown> | null = null;
    sock.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0 && !response) {
        response = JSON.parse(buf.slice(0, nl));
        // Give the server a moment to close (or not), then report.
        setTimeout(() => {
          const closed = sock.destroyed || sock.readableEnded;
          sock.destroy();
          done({ response: response!, closed });
        }, 200);
      }
    });
    sock.on('end', () => sock.end());
    sock.on('error', fail);
    sock.write(JSON.stringify(request) + '\n');
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-sock-'));
  photos = join(root, 'photos');
  data = join(root, 'data');
  mkdirSync(photos);
  await writeColourLibrary(photos);
  expect(cli([], 'folders', 'add', photos).code).toBe(0);
  expect(cli([], 'index').code).toBe(0);
  serve = await startServe();
}, 180_000);
afterAll(async () => {
  if (serve) await stop(serve);
  rmSync(root, { recursive: true, force: true });
});

describe('the local socket', () => {
  it.runIf(posix)('is owner-only, and so is the token file', () => {
    expect(statSync(info().socket).isSocket()).toBe(true);
    expect(statSync(info().socket).mode & 0o777).toBe(0o600);
    expect(statSync(infoFile()).mode & 0o777).toBe(0o600);
  });

  it('answers status and search for the CLI, which loads no model, index or database', () => {
    const status = cli(NOT_NEEDED, 'status', '--json');
    expect(status.code, status.err).toBe(0);
    expect(status.err).toContain(`answered by the running LeanLens, pid ${serve!.pid}`);
    expect(JSON.parse(status.out)).toMatchObject({ files: 11, indexed: 11, model: 'color-oracle', dataDir: data });

    const found = cli(NOT_NEEDED, 'search', 'red', '--limit', '3', '--all', '--json');
    expect(found.code, found.err).toBe(0);
    expect(found.err).toContain(`pid ${serve!.pid}`);
    const hits = JSON.parse(found.out) as { path: string; score: number }[];
    expect(hits).toHaveLength(3);
    expect(hits[0]!.path).toBe(join(photos, 'red.jpg'));

    const like = cli(NOT_NEEDED, 'similar', join(photos, 'red.jpg'), '--limit', '2', '--json');
    expect(like.code, like.err).toBe(0);
    expect((JSON.parse(like.out) as { path: string }[]).map((h) => h.path)).not.toContain(join(photos, 'red.jpg'));

    const folder = cli(NOT_NEEDED, 'search', 'red', '--folder', join(root, 'elsewhere'));
    expect(folder.code).toBe(2);
    expect(folder.err).toMatch(/is not a library folder/);
  });

  it('saves, shows and removes smart albums in the running app, so its sidebar shows them at once', () => {
    const saved = cli(NOT_NEEDED, 'albums', 'save', 'Reds', 'red', '--min-score', '0.5', '--json');
    expect(saved.code, saved.err).toBe(0);
    expect(saved.err).toContain(`answered by the running LeanLens, pid ${serve!.pid}`);
    expect(JSON.parse(saved.out)).toMatchObject({ name: 'Reds', savedWith: 'color-oracle', count: expect.any(Number) });
    const shown = cli(NOT_NEEDED, 'albums', 'show', 'reds', '--json');
    expect(shown.code, shown.err).toBe(0);
    expect((JSON.parse(shown.out) as { hits: { path: string }[] }).hits[0]!.path).toBe(join(photos, 'red.jpg'));
    expect(cli(NOT_NEEDED, 'albums', 'remove', 'Reds').code).toBe(0);
    expect(JSON.parse(cli(NOT_NEEDED, 'albums', 'list', '--json').out)).toEqual([]);
  });

  it('refuses a request without the right token, and closes the connection', async () => {
    const wrong = await raw({ id: 1, token: 'not-the-token', call: 'index.status' });
    expect(wrong.response).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(wrong.response).not.toHaveProperty('result');
    expect(wrong.closed).toBe(true);
    const none = await raw({ id: 2, call: 'search.text', args: { text: 'red' } });
    expect(none.response).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const right = await raw({ id: 3, token: info().token, call: 'index.status' });
    expect(right.response).toMatchObject({ id: 3, ok: true, result: { files: 11 } });
  });

  it('validates arguments with the contract, as every transport does', async () => {
    const bad = await raw({ id: 4, token: info().token, call: 'search.text', args: { text: 'red', limit: 0 } });
    expect(bad.response).toMatchObject({ id: 4, ok: false, error: { code: 'invalid-argument' } });
    const unknown = await raw({ id: 5, token: info().token, call: 'no.such.call' });
    expect(unknown.response).toMatchObject({ id: 5, ok: false, error: { code: 'not-found' } });
  });

  it('bounds request size: 1 MiB for ordinary calls, and an endless line closes the connection', async () => {
    const big = await raw({ id: 6, token: info().token, call: 'index.status', args: { pad: 'x'.repeat(1100 * 1024) } });
    expect(big.response).toMatchObject({ id: 6, ok: false, error: { code: 'too-large' } });
    const endless = await new Promise<{ response: Record<string, unknown>; closed: boolean }>((done, fail) => {
      const sock = connect(info().socket);
      let buf = '';
      sock.on('data', (d) => (buf += d));
      sock.on('close', () => done({ response: JSON.parse(buf.split('\n')[0]!), closed: true }));
      sock.on('error', (e) => (buf ? undefined : fail(e)));
      // 71 MiB without a newline: more than even an image call may send.
      const chunk = Buffer.alloc(1024 * 1024, 0x78);
      for (let i = 0; i < 71 && !sock.destroyed; i++) sock.write(chunk);
    });
    expect(endless.response).toMatchObject({ ok: false, error: { code: 'too-large' } });
    expect(endless.closed).toBe(true);
  });

  // Not asked, and not opened beside it either: the running app owns the library (store/owner.ts).
  it.runIf(posix)('is not used when its socket or token file is open to other users', () => {
    const { socket } = info();
    try {
      chmodSync(socket, 0o666);
      const r = cli([], 'status', '--json');
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(new RegExp(`leanlens serve, pid ${serve!.pid}.* has the library in .* open, but could not be asked \\(.*open to other users`));
      expect(r.err).toContain('does not open it itself');
      expect(r.err).not.toContain('answered by the running LeanLens');
    } finally {
      chmodSync(socket, 0o600);
    }
    try {
      chmodSync(infoFile(), 0o644);
      const r = cli([], 'status', '--json');
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(/could not be asked \(.*open to other users/);
    } finally {
      chmodSync(infoFile(), 0o600);
    }
  });

  it('is cleaned up after an app that was killed, and taken over by the next one', async () => {
    const { socket } = info();
    await stop(serve!, 'SIGKILL');
    serve = null;
    expect(existsSync(infoFile())).toBe(true);
    const r = cli([], 'status', '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toContain('answered by');
    expect(JSON.parse(r.out)).toMatchObject({ files: 11 });
    expect(existsSync(infoFile())).toBe(false);
    if (posix) expect(existsSync(socket)).toBe(false);

    serve = await startServe();
    expect(cli(NOT_NEEDED, 'status').err).toContain(`pid ${serve.pid}`);
    // A clean stop removes both files.
    await stop(serve);
    serve = null;
    expect(existsSync(infoFile())).toBe(false);
    if (posix) expect(existsSync(socket)).toBe(false);
  }, 180_000);

  it('is opened by index --watch too', async () => {
    serve = await startServe(['index', '--watch']);
    const r = cli(NOT_NEEDED, 'status', '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`pid ${serve.pid}`);
    await stop(serve);
    serve = null;
    expect(existsSync(infoFile())).toBe(false);
  }, 180_000);
});
