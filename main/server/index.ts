/**
 * The headless bridge: serves the built renderer and the contract over HTTP + WebSocket.
 *
 * Owns: the HTTP routes (POST /api/<call>, GET /events, GET /photo/<id>/<kind>, static files),
 * the per-run token, the Host/Origin checks and the body limits.
 * Must never: accept a file-system path from a client (photos are served by library id only),
 * answer anything — static files included — without the token, or bind beyond 127.0.0.1 unless
 * the caller asked for it.
 *
 * Routes are derived from the contract's `callNames`: adding a call needs no edit here.
 */
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError, ERRORS_IN_BODY, callNames, eventNames, parseArgs, type CallName } from '../core/contract.ts';
import type { App } from '../app/index.ts';
import { contentTypeOf } from '../core/mime.ts';
import { isInside, realInside } from '../core/paths.ts';
import { hostAllowed, isLoopbackBind, isWildcard, originAllowed, statusOf, tokenFrom } from './http-rules.ts';

export interface ServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything else exposes the library to the network: the caller must warn. */
  host?: string;
  /** Default: 32 random hex characters, new every run. */
  token?: string;
  /** The built renderer; default the package's `dist/renderer` (`npm run build:renderer`). */
  staticDir?: string;
  /** Body limit for ordinary calls (default 1 MiB). */
  maxBodyBytes?: number;
  /** Body limit for calls that carry an image (search.similar; default 70 MiB for 64 MiB of base64). */
  maxImageBodyBytes?: number;
  /**
   * Slow clients (slowloris): a request's headers must arrive within this (default 10 s), the
   * whole request within `requestTimeoutMs` (default 60 s: 70 MiB even over a slow loopback).
   */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** A request body that sends nothing for this long is answered 408 and closed (default 10 s). */
  bodyIdleMs?: number;
  /** Open event WebSockets at most (default 64: a page needs one); more get 503. */
  maxEventSockets?: number;
}

export interface RunningServer {
  /** The URL to open, token included: http://127.0.0.1:PORT/?token=… */
  url: string;
  port: number;
  host: string;
  token: string;
  /** Set when the server listens beyond the loopback interface; print it. */
  warning: string | null;
  close(): Promise<void>;
}

/** Calls whose argument may carry a whole image. */
const IMAGE_CALLS: ReadonlySet<string> = new Set(['search.similar']);
const CALLS: ReadonlySet<string> = new Set(callNames);

/** The package's built UI, wherever the command is run from. */
export const DEFAULT_STATIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'renderer');

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function startServer(app: App, opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(16).toString('hex');
  const staticDir = resolve(opts.staticDir ?? DEFAULT_STATIC_DIR);
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const maxImageBody = opts.maxImageBodyBytes ?? 70 * 1024 * 1024;
  const wildcard = isWildcard(host);
  const loopbackBind = isLoopbackBind(host);
  let port = 0;
  // Cookies are shared across ports on one host, so the name carries the port: two servers on
  // the same machine do not overwrite each other's token.
  const cookieName = () => `leanlens_token_${port}`;

  const tokenOf = (req: IncomingMessage, url: URL) =>
    tokenFrom(
      { query: url.searchParams.get('token'), authorization: req.headers.authorization, cookieHeader: req.headers.cookie },
      cookieName(),
      token,
    );

  function securityHeaders(res: ServerResponse, hostHeader: string): void {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader(
      'Content-Security-Policy',
      [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        `connect-src 'self' ws://${hostHeader}`,
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
      ].join('; '),
    );
  }

  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const data = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(data),
      'Cache-Control': 'no-store',
    });
    res.end(data);
  }

  function sendError(res: ServerResponse, status: number, code: string, message: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status, { ok: false, error: { code, message } });
  }

  function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    return new Promise((resolveBody, reject) => {
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > limit) {
        reject(new HttpError(413, 'too-large', `request body is ${declared} bytes; the limit is ${limit}`));
        req.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      // A body that stops flowing (a slow client holding the connection) ends the request early;
      // Node's own requestTimeout only looks at the whole request.
      const idle = opts.bodyIdleMs ?? 10_000;
      let timer = setTimeout(stalled, idle);
      function stalled() {
        if (failed) return;
        failed = true;
        // Answered with Connection: close, which ends the connection.
        reject(new HttpError(408, 'timeout', `no request data for ${idle} ms`));
      }
      req.on('data', (c: Buffer) => {
        if (failed) return;
        clearTimeout(timer);
        timer = setTimeout(stalled, idle);
        size += c.length;
        if (size > limit) {
          failed = true;
          reject(new HttpError(413, 'too-large', `request body is over the limit of ${limit} bytes`));
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        clearTimeout(timer);
        if (!failed) resolveBody(Buffer.concat(chunks));
      });
      req.on('error', (e) => {
        clearTimeout(timer);
        if (!failed) reject(e);
      });
    });
  }

  async function handleCall(name: CallName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, IMAGE_CALLS.has(name) ? maxImageBody : maxBody);
    let raw: unknown = undefined;
    const text = body.toString('utf8').trim();
    if (text.length > 0) {
      try {
        raw = JSON.parse(text);
      } catch (e) {
        throw new HttpError(400, 'invalid-json', `request body is not valid JSON: ${(e as Error).message}`);
      }
    }
    // `null` and `{}` both mean "no argument" for calls that take none.
    if (raw === null) raw = undefined;
    const args = parseArgs(name, raw);
    const fn = app[name] as (a: unknown) => Promise<unknown>;
    const result = await fn.call(app, args);
    sendJson(res, 200, { ok: true, result: result === undefined ? null : result });
  }

  async function handlePhoto(id: number, kind: 'thumbnail' | 'original', req: IncomingMessage, res: ServerResponse) {
    const file = await app.photoFile(id, kind);
    const info = await stat(file.path);
    res.writeHead(200, {
      'Content-Type': file.contentType,
      'Content-Length': info.size,
      // Thumbnails change only when the photo does; the id+mtime in the query busts the cache.
      'Cache-Control': 'private, max-age=300',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file.path)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  async function handleStatic(pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      throw new HttpError(400, 'bad-path', 'malformed path');
    }
    if (decoded.includes('\0') || decoded.split(/[\\/]/).includes('..')) {
      throw new HttpError(404, 'not-found', 'not found');
    }
    const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
    const candidate = resolve(staticDir, rel);
    if (!isInside(candidate, staticDir, { allowSame: false })) throw new HttpError(404, 'not-found', 'not found');
    // Symlinks resolved: one inside the build folder must not lead outside it.
    const real = await realInside(candidate, staticDir, realpath, { allowSame: false });
    if (!real) {
      if (rel === 'index.html' && !existsSync(candidate)) {
        throw new HttpError(503, 'ui-not-built', `the UI is not built (${join(staticDir, 'index.html')} is missing): run \`npm run build:renderer\``);
      }
      throw new HttpError(404, 'not-found', 'not found');
    }
    const info = await stat(real);
    // No directory listings, ever.
    if (!info.isFile()) throw new HttpError(404, 'not-found', 'not found');
    const type = contentTypeOf(real) ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': info.size,
      'Cache-Control': rel === 'index.html' ? 'no-store' : 'private, max-age=3600',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(real)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hostHeader = String(req.headers.host ?? '');
    if (!hostAllowed(hostHeader, { host, port })) {
      sendError(res, 403, 'forbidden-host', 'this server answers only to its own address (Host header refused)');
      return;
    }
    if (!originAllowed(req.headers.origin, req.headers.host)) {
      sendError(res, 403, 'forbidden-origin', 'cross-origin requests are refused');
      return;
    }
    securityHeaders(res, hostHeader);
    const url = new URL(req.url ?? '/', `http://${hostHeader}`);
    const auth = tokenOf(req, url);
    if (!auth.ok) {
      const why = 'open the URL printed by `leanlens serve` (it carries the access token)';
      if (req.method === 'GET' && String(req.headers.accept ?? '').includes('text/html')) {
        // A person opened the bare address: tell them what to do, in a page with no data and no script.
        const page = `<!doctype html><meta charset="utf-8"><title>LeanLens: access token needed</title><h1>Access token needed</h1><p>This LeanLens server only answers with its per-run token. Open the full URL that <code>leanlens serve</code> printed when it started (it ends in <code>?token=…</code>).</p>`;
        res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page), 'Cache-Control': 'no-store' });
        res.end(page);
        return;
      }
      sendError(res, 401, 'unauthorized', why);
      return;
    }
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (path.startsWith('/api/')) {
      const name = path.slice('/api/'.length);
      if (!CALLS.has(name)) throw new HttpError(404, 'not-found', `unknown call "${name}"`);
      if (method !== 'POST') {
        res.setHeader('Allow', 'POST');
        throw new HttpError(405, 'method-not-allowed', 'calls are POST requests with a JSON body');
      }
      await handleCall(name as CallName, req, res);
      return;
    }

    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'method-not-allowed', 'method not allowed');
    }

    const photo = /^\/photo\/(\d{1,15})\/(thumbnail|original)$/.exec(path);
    if (photo) {
      await handlePhoto(Number(photo[1]), photo[2] as 'thumbnail' | 'original', req, res);
      return;
    }
    if (path.startsWith('/photo/')) throw new HttpError(404, 'not-found', 'photos are served by library id only');

    if (auth.fromQuery) {
      // First page load: trade the token in the URL for a cookie the page cannot read, and drop it
      // from the address bar (and so from history and screenshots).
      res.setHeader('Set-Cookie', `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      if (path === '/' || path === '/index.html') {
        url.searchParams.delete('token');
        const rest = url.searchParams.toString();
        res.writeHead(302, { Location: `${path}${rest ? `?${rest}` : ''}${url.hash}`, 'Cache-Control': 'no-store' });
        res.end();
        return;
      }
    }
    await handleStatic(path, req, res);
  }

  const server = createServer(
    {
      headersTimeout: opts.headersTimeoutMs ?? 10_000,
      requestTimeout: opts.requestTimeoutMs ?? 60_000,
      // How often those timeouts are looked at (Node's default, 30 s, would let a slow client sit 3× longer).
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        if (e instanceof HttpError) {
          if (e.status === 413 || e.status === 408) res.setHeader('Connection', 'close');
          sendError(res, e.status, e.code, e.message);
        } else if (e instanceof AppError) {
          // The app's own answers ("no such folder", "not supported here") are expected, not faults:
          // the UI asks for them with 200 so the browser does not log each as a failed resource.
          // Scripts and the CLI, which do not ask, get the status that says what went wrong.
          const inBody = req.headers[ERRORS_IN_BODY.header] === ERRORS_IN_BODY.value;
          sendError(res, inBody ? 200 : statusOf(e.code), e.code, e.message);
        } else {
          const err = e as NodeJS.ErrnoException;
          if (err?.code === 'ENOENT') sendError(res, 404, 'not-found', 'not found');
          else sendError(res, 500, 'failed', err?.message ? String(err.message) : 'internal error');
        }
      });
    },
  );

  // ---- Events over WebSocket ------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const sockets = new Set<WebSocket>();
  let upgrading = 0;
  const unsubscribers = eventNames.map((event) =>
    app.on(event, (payload) => {
      const msg = JSON.stringify({ event, payload });
      for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(msg);
    }),
  );

  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: number, text: string) => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    const hostHeader = String(req.headers.host ?? '');
    if (!hostAllowed(hostHeader, { host, port }) || !originAllowed(req.headers.origin, req.headers.host)) return refuse(403, 'Forbidden');
    const url = new URL(req.url ?? '/', `http://${hostHeader}`);
    if (!tokenOf(req, url).ok) return refuse(401, 'Unauthorized');
    if (url.pathname !== '/events') return refuse(404, 'Not Found');
    // Each open socket costs buffers; a runaway or hostile page must not exhaust the app.
    if (sockets.size + upgrading >= (opts.maxEventSockets ?? 64)) return refuse(503, 'Service Unavailable');
    upgrading++;
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgrading--;
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      // The page only listens; anything it sends is ignored.
    });
  });

  return new Promise((resolveStart, rejectStart) => {
    server.once('error', rejectStart);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', rejectStart);
      const addr = server.address();
      port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
      const urlHost = wildcard || loopbackBind ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      const warning = loopbackBind
        ? null
        : `LeanLens is listening on ${host || 'every interface'}:${port} — anyone on your network who has the URL (with its token) can see your photos.`;
      resolveStart({
        url: `http://${urlHost}:${port}/?token=${token}`,
        port,
        host,
        token,
        warning,
        close: () =>
          new Promise<void>((done) => {
            for (const u of unsubscribers) u();
            for (const ws of sockets) ws.terminate();
            wss.close();
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}
