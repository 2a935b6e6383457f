/**
 * What the local socket's server and client share: where the socket and its info file live, the
 * owner-only check both sides make, and the framing (one JSON object per line).
 *
 * Node built-ins only: the CLI loads this before deciding whether to open the library itself, so
 * it must cost nothing.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `<data>/leanlens.sock.json`: { pid, socket, token }, mode 0600. Its presence says "an app may be running". */
export const INFO_FILE = 'leanlens.sock.json';
const SOCKET_FILE = 'leanlens.sock';

/** A Unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

/** Calls whose argument may carry a whole image (base64), as in the HTTP server. */
export const IMAGE_CALLS: ReadonlySet<string> = new Set(['search.similar']);
export const MAX_LINE_BYTES = 1024 * 1024;
export const MAX_IMAGE_LINE_BYTES = 70 * 1024 * 1024;

/** Socket-only calls beyond the contract: `ping` (who answers) and `photoIdByPath` (the CLI's `similar <path>`). */
export const PING = 'ping';
export const PHOTO_ID_BY_PATH = 'photoIdByPath';

export interface SocketInfo {
  pid: number;
  socket: string;
  token: string;
}

export interface Request {
  id: number;
  token: string;
  call: string;
  args?: unknown;
}

export type Response =
  | { id: number; ok: true; result: unknown }
  | { id: number | null; ok: false; error: { code: string; message: string } };

export function infoPath(dataDir: string): string {
  return join(dataDir, INFO_FILE);
}

/**
 * The socket for this data folder: `<data>/leanlens.sock`; a named pipe on Windows; when the data
 * path is too long for a socket address, a file in a 0700 per-user folder under the temp dir.
 */
export function socketPath(dataDir: string): string {
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\leanlens-${hash}`;
  const inData = join(dataDir, SOCKET_FILE);
  if (Buffer.byteLength(inData) <= MAX_SOCKET_PATH) return inData;
  const dir = join(tmpdir(), `leanlens-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const problem = notOwnerOnly(lstatSync(dir), 'directory');
  if (problem) throw new Error(`${dir}: ${problem}`);
  return join(dir, `${hash}.sock`);
}

/**
 * Why a socket or info file must not be trusted: not ours, or reachable by other users (another
 * user could then have planted it, or read the token). Null when it is owner-only. Windows has no
 * POSIX modes; there the token is the guard.
 */
export function notOwnerOnly(st: Stats, kind: 'socket' | 'file' | 'directory'): string | null {
  if (process.platform === 'win32') return null;
  if (kind === 'socket' && !st.isSocket()) return 'is not a socket';
  if (kind === 'file' && !st.isFile()) return 'is not a regular file';
  if (kind === 'directory' && !st.isDirectory()) return 'is not a directory';
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `belongs to another user (uid ${st.uid})`;
  if ((st.mode & 0o077) !== 0) return `is open to other users (mode ${(st.mode & 0o777).toString(8)}; want 600)`;
  return null;
}

/** Splits a byte stream into lines; `limit` bounds an unfinished line so a peer cannot fill memory. */
export class LineReader {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly limit: number,
  ) {}

  /** False when the unfinished line is over the limit (the caller closes the connection). */
  push(data: Buffer): boolean {
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      this.chunks.push(data.subarray(start, nl));
      const line = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.size = 0;
      start = nl + 1;
      this.onLine(line);
    }
    if (start < data.length) {
      this.chunks.push(data.subarray(start));
      this.size += data.length - start;
    }
    return this.size <= this.limit;
  }
}
