/**
 * Fetching one model file over HTTPS into `<file>.part`, resuming with a Range request after an
 * interruption, following redirects (Hugging Face serves files through them), and checking size
 * and sha256 before an atomic rename into place. Plain http is refused except on the loopback
 * interface, which only a local test server uses.
 */
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256File } from './hashing.ts';

export interface FileDownload {
  url: string;
  dest: string;
  bytes: number;
  sha256: string;
  /** Called with bytes on disk so far (including a resumed .part) and the expected total. */
  onProgress?: (received: number, total: number) => void;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 10;
const STALL_MS = 60_000;

/** https anywhere; http only to this machine (the tests' local server). */
export function checkUrlAllowed(url: URL): void {
  if (url.protocol === 'https:') return;
  const local = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
  if (url.protocol === 'http:' && local) return;
  throw new Error(`Refusing to download from ${url.href}: only https URLs are allowed (plain http only from this computer).`);
}

/** Parses `Content-Range: bytes START-END/TOTAL`; null when absent or malformed. */
export function parseContentRange(header: string | undefined): { start: number; end: number; total: number | null } | null {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header?.trim() ?? '');
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** Follows redirects; returns the final response (status not yet checked). */
function get(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined, hops = 0): Promise<http.IncomingMessage> {
  checkUrlAllowed(url);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hops >= MAX_REDIRECTS) {
          reject(new Error(`Too many redirects while downloading ${url.href}.`));
          return;
        }
        let next: URL;
        try {
          next = new URL(res.headers.location, url);
        } catch {
          reject(new Error(`The server sent a bad redirect (${res.headers.location}) for ${url.href}.`));
          return;
        }
        try {
          get(next, headers, signal, hops + 1).then(resolve, reject);
        } catch (err) {
          reject(err); // e.g. a redirect to plain http
        }
        return;
      }
      resolve(res);
    });
    req.setTimeout(STALL_MS, () => req.destroy(new Error(`no answer from ${url.host} for ${STALL_MS / 1000} s`)));
    req.on('error', reject);
  });
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Downloads (or resumes) one file; resolves once it is verified and in place. */
export async function downloadFile(job: FileDownload): Promise<void> {
  const part = `${job.dest}.part`;
  const name = job.dest;
  mkdirSync(dirname(job.dest), { recursive: true });
  let start = sizeOf(part);
  if (start > job.bytes) {
    rmSync(part, { force: true });
    start = 0;
  }
  job.onProgress?.(start, job.bytes);

  if (start < job.bytes) {
    const headers: Record<string, string> = { 'user-agent': 'LeanLens', 'accept-encoding': 'identity' };
    if (start > 0) headers.range = `bytes=${start}-`;
    let res: http.IncomingMessage;
    try {
      res = await get(new URL(job.url), headers, job.signal);
    } catch (err) {
      throw describeFailure(err, job, start);
    }
    const status = res.statusCode ?? 0;
    if (status === 416 && start > 0) {
      // The server no longer agrees on the partial file (changed upstream): start over.
      res.resume();
      rmSync(part, { force: true });
      return downloadFile(job);
    }
    if (status === 206) {
      const range = parseContentRange(res.headers['content-range']);
      if (!range || range.start !== start) {
        res.resume();
        rmSync(part, { force: true });
        throw new Error(`The server answered the resume of ${job.url} with the wrong range (${res.headers['content-range'] ?? 'none'}); the partial file was deleted, try again.`);
      }
      if (range.total !== null && range.total !== job.bytes) {
        res.resume();
        rmSync(part, { force: true }); // the partial file belongs to another version of the file
        throw sizeMismatch(job, range.total);
      }
    } else if (status === 200) {
      start = 0; // the server ignored Range: take the whole file again
      // A server stating another size is serving another file: say so now, before fetching it all.
      const length = Number(res.headers['content-length'] ?? NaN);
      if (Number.isInteger(length) && length !== job.bytes) {
        res.resume();
        throw sizeMismatch(job, length);
      }
    } else {
      res.resume();
      throw new Error(
        `Download of ${job.url} failed: HTTP ${status} ${res.statusMessage ?? ''}`.trim() +
          (status === 404 ? '. The file is not at that address any more; check the model\'s URL in the manifest.' : '.'),
      );
    }

    let received = start;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > job.bytes) {
          done(new Error(`the server sent more than the expected ${job.bytes} bytes`));
          return;
        }
        job.onProgress?.(received, job.bytes);
        done(null, chunk);
      },
    });
    const file = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
    try {
      await pipeline(res, counter, file, { signal: job.signal });
    } catch (err) {
      // pipeline rejects as soon as it destroys the streams, while writes already handed to the
      // file system may still land: wait for the file to close so a resume measures its true size.
      if (!file.closed) await new Promise<void>((done) => file.once('close', () => done()));
      if (received > job.bytes) rmSync(part, { force: true });
      throw describeFailure(err, job, received);
    }
    if (received < job.bytes) {
      throw new Error(
        `Download of ${job.url} was interrupted after ${received} of ${job.bytes} bytes; the partial file is kept, download again to resume.`,
      );
    }
  }

  const size = sizeOf(part);
  const actual = size === job.bytes ? await sha256File(part) : null;
  if (actual !== job.sha256.toLowerCase()) {
    rmSync(part, { force: true });
    throw new Error(
      actual === null
        ? `Download of ${job.url} has ${size} bytes instead of ${job.bytes}; the corrupt file was deleted, try again.`
        : `Download of ${job.url} is corrupt (sha256 ${actual}, expected ${job.sha256}); the file was deleted, try again.`,
    );
  }
  renameSync(part, name);
}

function sizeMismatch(job: FileDownload, served: number): Error {
  return new Error(
    `Download of ${job.url} refused: the server's file has ${served} bytes, the manifest expects ${job.bytes}. ` +
      'Nothing was saved. The file changed upstream or the manifest entry is wrong.',
  );
}

function describeFailure(err: unknown, job: FileDownload, received: number): Error {
  if (job.signal?.aborted) {
    return new Error(`Download of ${job.url} was cancelled after ${received} of ${job.bytes} bytes; the partial file is kept to resume later.`);
  }
  const message = err instanceof Error ? err.message : String(err);
  const kept = existsSync(`${job.dest}.part`) && received > 0;
  return new Error(
    `Download of ${job.url} failed after ${received} of ${job.bytes} bytes: ${message}.` +
      (kept ? ' The partial file is kept; download again to resume.' : ' Check the connection and try again.'),
  );
}
