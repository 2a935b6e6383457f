/**
 * The CLI's side of the local socket (see ./local-socket.ts): finds the app running on a data
 * folder, checks its socket and info file are this user's and owner-only, and sends calls.
 * Node built-ins only, so trying the socket costs the CLI almost nothing when no app runs.
 */
import { lstatSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { LineReader, MAX_IMAGE_LINE_BYTES, PING, infoPath, notOwnerOnly, type Response, type SocketInfo } from './local-socket-protocol.ts';

/** A connection that failed: nothing answered, or the socket was gone or refused. Fall back to opening the library. */
export class NotAnswering extends Error {}

/** An error the running app returned for a call (with the contract's error code). */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AppConnection {
  /** The process answering. */
  pid: number;
  call<T = unknown>(name: string, args?: unknown): Promise<T>;
  close(): void;
}

export type FindResult = { kind: 'none' } | { kind: 'connected'; app: AppConnection } | { kind: 'refused'; reason: string };

/**
 * How long the app listening on the socket gets to accept and answer the hello. A socket nobody
 * listens on is refused at once (ECONNREFUSED), so this wait is only ever spent on a live app
 * that is busy: under heavy load (load average above 15 on 2 cores) one took more than 1 s.
 */
export const ANSWER_TIMEOUT_MS = 10_000;

/** Opens a connection and says hello (`ping`): proves the token and learns the pid. */
export async function pingApp(info: SocketInfo, timeoutMs = ANSWER_TIMEOUT_MS): Promise<AppConnection> {
  const sock = await new Promise<Socket>((resolveConnect, rejectConnect) => {
    const s = connect(info.socket);
    const timer = setTimeout(() => {
      s.destroy();
      rejectConnect(new NotAnswering(`no answer on ${info.socket} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolveConnect(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      rejectConnect(new NotAnswering(`${info.socket}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
  });

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const reader = new LineReader((line) => {
    let r: Response;
    try {
      r = JSON.parse(line) as Response;
    } catch {
      failAll(new NotAnswering('the running app sent something that is not JSON'));
      sock.destroy();
      return;
    }
    const waiting = r.id === null ? [...pending.keys()] : [r.id];
    for (const id of waiting) {
      const p = pending.get(id);
      if (!p) continue;
      pending.delete(id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new RemoteError(r.error.code, r.error.message));
    }
  }, MAX_IMAGE_LINE_BYTES);
  sock.on('data', (d: Buffer) => {
    if (!reader.push(d)) {
      failAll(new NotAnswering('the running app sent an over-long line'));
      sock.destroy();
    }
  });
  sock.on('error', (err) => failAll(new NotAnswering(`connection to the running app failed: ${err.message}`)));
  sock.on('close', () => failAll(new NotAnswering('the running app closed the connection')));

  const call = <T>(name: string, args?: unknown) =>
    new Promise<T>((resolveCall, rejectCall) => {
      const id = nextId++;
      pending.set(id, { resolve: resolveCall as (v: unknown) => void, reject: rejectCall });
      sock.write(JSON.stringify({ id, token: info.token, call: name, args }) + '\n');
    });

  const hello = await Promise.race([
    call<{ pid: number }>(PING),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new NotAnswering(`the app on ${info.socket} did not answer within ${timeoutMs} ms`)), timeoutMs).unref(),
    ),
  ]).catch((err: Error) => {
    sock.destroy();
    throw err;
  });
  return { pid: hello.pid, call, close: () => sock.end() };
}

/**
 * The app answering on this data folder, if any. `none`: no app runs (a stale socket and info
 * file left by one that died are removed). `refused`: something is there that must not be used
 * (files open to other users or owned by someone else, a wrong token); the caller says why and
 * opens the library itself.
 */
export async function findRunningApp(dataDir: string): Promise<FindResult> {
  const file = infoPath(dataDir);
  let text: string;
  try {
    const problem = notOwnerOnly(lstatSync(file), 'file');
    if (problem) return { kind: 'refused', reason: `${file} ${problem}` };
    text = readFileSync(file, 'utf8');
  } catch {
    return { kind: 'none' };
  }
  let info: SocketInfo;
  try {
    info = JSON.parse(text) as SocketInfo;
    if (typeof info.socket !== 'string' || typeof info.token !== 'string') throw new Error('incomplete');
  } catch {
    return { kind: 'refused', reason: `${file} is not a valid socket info file` };
  }
  if (process.platform !== 'win32') {
    let problem: string | null;
    try {
      problem = notOwnerOnly(lstatSync(info.socket), 'socket');
    } catch {
      // The app is gone and left its info file behind.
      rmSync(file, { force: true });
      return { kind: 'none' };
    }
    if (problem) return { kind: 'refused', reason: `${info.socket} ${problem}` };
  }
  try {
    return { kind: 'connected', app: await pingApp(info) };
  } catch (err) {
    if (err instanceof RemoteError) return { kind: 'refused', reason: `the running app refused: ${err.message}` };
    const code = /: (ECONNREFUSED|ENOENT)$/.exec((err as Error).message)?.[1];
    if (code) {
      // Nothing listens: a process that died without cleaning up. Its files are ours (checked
      // above), so remove them and let the next `serve` start cleanly.
      if (process.platform !== 'win32') rmSync(info.socket, { force: true });
      rmSync(file, { force: true });
      return { kind: 'none' };
    }
    return { kind: 'refused', reason: (err as Error).message };
  }
}
