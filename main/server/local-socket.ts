/**
 * The local socket: while an app (`serve`, `index --watch`, the desktop app) runs on a data folder,
 * it answers the contract's calls on a Unix socket in that folder (a named pipe on Windows), so
 * `leanlens search` and `status` ask it instead of loading the model a second time.
 *
 * Owns: the socket and its info file (`leanlens.sock.json`: pid, socket path, token), both mode
 * 0600; the per-run token, checked on every request; argument validation (the contract's
 * `parseArgs`, as over HTTP and IPC); removing a stale socket left by a process that died.
 * Must never: answer a request without the token, leave the socket reachable by other users, or
 * take over a socket another live process is answering on.
 *
 * Protocol: one JSON object per line each way. Request {id, token, call, args}; response
 * {id, ok: true, result} or {id, ok: false, error: {code, message}}. A wrong token gets
 * `unauthorized` and the connection is closed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { AppError, callNames, parseArgs, type CallName } from '../core/contract.ts';
import type { App } from '../app/index.ts';
import { sameSecret } from './http-rules.ts';
import { NotAnswering, pingApp } from './local-socket-client.ts';
import {
  IMAGE_CALLS,
  LineReader,
  MAX_IMAGE_LINE_BYTES,
  MAX_LINE_BYTES,
  PHOTO_ID_BY_PATH,
  PING,
  infoPath,
  socketPath,
  type Request,
  type Response,
  type SocketInfo,
} from './local-socket-protocol.ts';

export interface LocalSocket {
  path: string;
  /** Removes the socket and the info file (when they are still this process's) and stops answering. */
  close(): Promise<void>;
}

export type LocalSocketStart = { ok: true; socket: LocalSocket } | { ok: false; reason: string };

const CALLS: ReadonlySet<string> = new Set(callNames);

/**
 * Removes a stale socket so the next listen can bind. Only a socket: the path may come from an
 * info file, and nothing else at that path is ours to delete. (A named pipe vanishes by itself.)
 */
function remove(path: string): void {
  if (process.platform === 'win32') return;
  try {
    if (lstatSync(path).isSocket()) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

function readInfo(file: string): SocketInfo | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SocketInfo;
  } catch {
    return null;
  }
}

/**
 * Starts answering on the data folder's socket. Resolves `{ok: false}` (and changes nothing) when
 * another live process already answers there: two apps on one library is allowed, but only the
 * first answers the CLI.
 */
export async function startLocalSocket(app: App, dataDir: string = app.dataDir): Promise<LocalSocketStart> {
  const info = infoPath(dataDir);
  const path = socketPath(dataDir);
  const previous = readInfo(info);
  if (previous) {
    try {
      const alive = await pingApp(previous);
      alive.close();
      return { ok: false, reason: `another LeanLens (pid ${alive.pid}) already answers on ${previous.socket}` };
    } catch (err) {
      // Only a socket nobody listens on is stale; one that answers oddly or slowly belongs to a live process.
      if (!(err instanceof NotAnswering && /: (ECONNREFUSED|ENOENT)$/.test(err.message))) {
        return { ok: false, reason: `${previous.socket} is in use (${(err as Error).message})` };
      }
    }
    remove(previous.socket);
    rmSync(info, { force: true });
  }
  // A socket file without an info file (a crash between the two writes) is stale too: nothing
  // can use it without a token.
  remove(path);

  const token = randomBytes(32).toString('hex');
  const connections = new Set<Socket>();
  const server = createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => conn.destroy());
    serveConnection(app, conn, token);
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(path, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  try {
    // Owner-only. The kernel checks write permission on a Unix socket at connect(), so other
    // users cannot even connect; the token is the second lock (and the only one for a named pipe).
    if (process.platform !== 'win32') chmodSync(path, 0o600);
    // The info file appears complete or not at all, 0600 from its first byte.
    const tmp = `${info}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ pid: process.pid, socket: path, token } satisfies SocketInfo), { mode: 0o600 });
    if (process.platform !== 'win32') chmodSync(tmp, 0o600);
    renameSync(tmp, info);
  } catch (err) {
    server.close();
    remove(path);
    throw err;
  }

  let closed = false;
  return {
    ok: true,
    socket: {
      path,
      close: () =>
        new Promise<void>((done) => {
          if (closed) return done();
          closed = true;
          // Only our own files: a later app on this folder may have replaced them.
          const ours = readInfo(info)?.token === token;
          if (ours) rmSync(info, { force: true });
          for (const c of connections) c.destroy();
          server.close(() => done());
          if (ours) remove(path);
        }),
    },
  };
}

function serveConnection(app: App, conn: Socket, token: string): void {
  const send = (r: Response) => {
    if (!conn.destroyed) conn.write(JSON.stringify(r) + '\n');
  };
  const reader = new LineReader((line) => {
    void answer(line).then(
      (r) => {
        send(r);
        if (!r.ok && r.error.code === 'unauthorized') conn.end();
      },
      () => conn.destroy(),
    );
  }, MAX_IMAGE_LINE_BYTES);

  async function answer(line: string): Promise<Response> {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      return { id: null, ok: false, error: { code: 'invalid-json', message: 'each request is one JSON object per line' } };
    }
    const id = typeof req?.id === 'number' ? req.id : null;
    if (!sameSecret(typeof req?.token === 'string' ? req.token : null, token)) {
      return { id, ok: false, error: { code: 'unauthorized', message: 'wrong or missing token (read it from leanlens.sock.json in the data folder)' } };
    }
    if (id === null) return { id, ok: false, error: { code: 'invalid-argument', message: 'a request needs a numeric id' } };
    if (!IMAGE_CALLS.has(req.call) && Buffer.byteLength(line) > MAX_LINE_BYTES) {
      return { id, ok: false, error: { code: 'too-large', message: `request is over the limit of ${MAX_LINE_BYTES} bytes` } };
    }
    try {
      if (req.call === PING) return { id, ok: true, result: { pid: process.pid, dataDir: app.dataDir } };
      if (req.call === PHOTO_ID_BY_PATH) {
        const path = (req.args as { path?: unknown } | undefined)?.path;
        if (typeof path !== 'string' || path.length === 0 || path.length > 4096) throw new AppError('invalid-argument', 'photoIdByPath: path must be a string');
        // A database lookup only: the path never reaches the file system.
        return { id, ok: true, result: app.photoIdByPath(path) };
      }
      if (!CALLS.has(req.call)) throw new AppError('not-found', `unknown call "${String(req.call)}"`);
      const name = req.call as CallName;
      const args = parseArgs(name, req.args === null ? undefined : req.args);
      const fn = app[name] as (a: unknown) => Promise<unknown>;
      const result = await fn.call(app, args);
      return { id, ok: true, result: result === undefined ? null : result };
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'failed';
      return { id, ok: false, error: { code, message: (err as Error)?.message ?? String(err) } };
    }
  }

  conn.on('data', (data: Buffer) => {
    if (!reader.push(data)) {
      send({ id: null, ok: false, error: { code: 'too-large', message: `request is over the limit of ${MAX_IMAGE_LINE_BYTES} bytes` } });
      conn.destroy();
    }
  });
}
