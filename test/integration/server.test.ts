/**
 * The headless bridge over real HTTP on 127.0.0.1: token, Host/Origin checks, argument validation,
 * body limits, static-file confinement, a call round trip and an event over the WebSocket.
 * The app behind it is a small recording stand-in (the bridge is what is under test here; the
 * browser tests in test/e2e run the real app).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { AppError, ERRORS_IN_BODY, callNames, type EventName, type Events, type Folder } from '../../main/core/contract.ts';
import type { App } from '../../main/app/index.ts';
import { startServer, type RunningServer } from '../../main/server/index.ts';

function standInApp(dataDir: string, photoPath: string) {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const received: { name: string; args: unknown }[] = [];
  const folder: Folder = {
    id: 1, path: '/photos', state: 'watching', photoCount: 2, indexedCount: 2, failedCount: 0, heldDeletions: 0, addedAt: 1,
  };
  const app: Record<string, unknown> = {
    dataDir,
    on(event: string, fn: (p: unknown) => void) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(fn);
      return () => listeners.get(event)!.delete(fn);
    },
    async photoFile(id: number) {
      if (id !== 7) throw new AppError('not-found', `no photo ${id}`);
      return { path: photoPath, contentType: 'image/jpeg' };
    },
    async close() {},
  };
  for (const name of callNames) {
    app[name] = async (args: unknown) => {
      received.push({ name, args });
      if (name === 'folders.list') return [folder];
      if (name === 'photos.open') throw new AppError('unsupported', 'opening files needs the desktop app');
      if (name === 'photos.get') throw new AppError('not-found', 'no such photo');
      return null;
    };
  }
  const emit = <E extends EventName>(event: E, payload: Events[E]) => {
    for (const fn of listeners.get(event) ?? []) fn(payload);
  };
  return { app: app as unknown as App, received, emit, listeners };
}

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function http(
  server: RunningServer,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; auth?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.auth !== false && !headers.Authorization) headers.Authorization = `Bearer ${server.token}`;
    if (opts.body !== undefined) headers['Content-Type'] ??= 'application/json';
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      // The server may close early on an oversized body after answering 413.
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') return;
      reject(e);
    });
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

const call = (server: RunningServer, name: string, body: unknown, extra: Parameters<typeof http>[2] = {}) =>
  http(server, `/api/${name}`, { method: 'POST', body: body === undefined ? '' : JSON.stringify(body), ...extra });

describe('headless server', () => {
  let dir: string;
  let server: RunningServer;
  let fake: ReturnType<typeof standInApp>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leanlens-server-'));
    const staticDir = join(dir, 'www');
    await mkdir(join(staticDir, 'assets'), { recursive: true });
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>LeanLens</title>');
    await writeFile(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'top secret');
    await symlink(join(dir, 'secret.txt'), join(staticDir, 'escape.txt'));
    const photo = join(dir, 'photo.jpg');
    await writeFile(photo, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    fake = standInApp(dir, photo);
    server = await startServer(fake.app, { port: 0, staticDir });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 with a random 32-hex token in the URL, and no warning', () => {
    expect(server.token).toMatch(/^[0-9a-f]{32}$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.warning).toBeNull();
  });

  it('answers 401 and no data without the token: API, static files, photos', async () => {
    for (const r of [
      await call(server, 'folders.list', {}, { auth: false }),
      await http(server, '/', { auth: false }),
      await http(server, '/assets/app.js', { auth: false }),
      await http(server, '/photo/7/original', { auth: false }),
      await call(server, 'folders.list', {}, { headers: { Authorization: 'Bearer 0123' } }),
      await http(server, `/?token=${'0'.repeat(32)}`, { auth: false }),
    ]) {
      expect(r.status).toBe(401);
      expect(r.body).not.toContain('/photos');
      expect(r.body).not.toContain('console.log');
    }
    expect(fake.received.filter((c) => c.name === 'folders.list')).toHaveLength(0);
    // A person opening the bare address gets a page saying what to do, still without data.
    const page = await http(server, '/', { auth: false, headers: { Accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(page.body).toMatch(/token/);
    expect(page.body).not.toContain('<script');
  });

  it('trades the token in the URL for an HttpOnly SameSite=Strict cookie and drops it from the address', async () => {
    const first = await http(server, `/?token=${server.token}`, { auth: false });
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    const page = await http(server, '/', { auth: false, headers: { Cookie: pair } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>LeanLens</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin with 403', async () => {
    const badHost = await call(server, 'folders.list', {}, { headers: { Host: `evil.example:${server.port}` } });
    expect(badHost.status).toBe(403);
    const badPort = await call(server, 'folders.list', {}, { headers: { Host: `127.0.0.1:1` } });
    expect(badPort.status).toBe(403);
    const badOrigin = await call(server, 'folders.list', {}, { headers: { Origin: 'http://evil.example' } });
    expect(badOrigin.status).toBe(403);
    const okOrigin = await call(server, 'folders.list', {}, {
      headers: { Host: `localhost:${server.port}`, Origin: `http://localhost:${server.port}` },
    });
    expect(okOrigin.status).toBe(200);
  });

  it('round-trips a call: JSON in, { ok, result } out', async () => {
    const r = await call(server, 'folders.list', {});
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.ok).toBe(true);
    expect(body.result[0].path).toBe('/photos');
    const s = await call(server, 'search.text', { text: 'red', limit: 5 });
    expect(s.status).toBe(200);
    expect(fake.received.at(-1)).toEqual({ name: 'search.text', args: { text: 'red', limit: 5 } });
  });

  it('validates arguments with the contract: 400 with the validation message, and the app is not called', async () => {
    const before = fake.received.length;
    const r = await call(server, 'search.text', { text: 42 });
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body);
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('invalid-argument');
    expect(body.error.message).toMatch(/search\.text: text:/);
    const strict = await call(server, 'folders.list', { path: '/etc' });
    expect(strict.status).toBe(400);
    expect(fake.received.length).toBe(before);
  });

  it('says clearly when the body is not JSON (400), the call is unknown (404), or the method is wrong (405)', async () => {
    const bad = await http(server, '/api/search.text', { method: 'POST', body: '{"text": "red"' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.message).toMatch(/not valid JSON/);
    expect((await call(server, 'photos.delete', { id: 1 })).status).toBe(404);
    expect((await http(server, '/api/folders.list')).status).toBe(405);
  });

  it('maps AppError codes to statuses: not-found 404, unsupported 501', async () => {
    const nf = await call(server, 'photos.get', { id: 3 });
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.body).error).toEqual({ code: 'not-found', message: 'no such photo' });
    const un = await call(server, 'photos.open', { id: 3 });
    expect(un.status).toBe(501);
    expect(JSON.parse(un.body).error.code).toBe('unsupported');
  });

  it('answers the app\'s own errors with 200 and { ok: false } when the client asks (the UI), with their status otherwise', async () => {
    const asked = { headers: { [ERRORS_IN_BODY.header]: ERRORS_IN_BODY.value } };
    const nf = await call(server, 'photos.get', { id: 3 }, asked);
    expect(nf.status).toBe(200);
    expect(JSON.parse(nf.body)).toEqual({ ok: false, error: { code: 'not-found', message: 'no such photo' } });
    expect((await call(server, 'photos.open', { id: 3 }, asked)).status).toBe(200);
    // Not the app's answer but a broken request: its status stays, asked or not.
    expect((await http(server, '/api/search.text', { method: 'POST', body: '{"text": ', ...asked })).status).toBe(400);
    expect((await call(server, 'photos.get', { id: 3 }, { headers: { [ERRORS_IN_BODY.header]: 'other' } })).status).toBe(404);
  });

  it('refuses a body over the limit with 413 (1 MiB for calls; search.similar may carry an image)', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) });
    const r = await http(server, '/api/search.text', { method: 'POST', body: big });
    expect(r.status).toBe(413);
    const image = JSON.stringify({ imageBase64: 'A'.repeat(2 * 1024 * 1024) });
    const ok = await http(server, '/api/search.similar', { method: 'POST', body: image });
    expect(ok.status).toBe(200);
  });

  it('serves static files but never outside the build folder, and never a listing', async () => {
    expect((await http(server, '/assets/app.js')).status).toBe(200);
    expect((await http(server, '/assets/app.js')).headers['content-type']).toMatch(/javascript/);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/escape.txt', '/assets/', '/assets', '/nope.js', '/%00']) {
      const r = await http(server, p);
      expect([400, 404]).toContain(r.status);
      expect(r.body).not.toContain('top secret');
    }
  });

  it('serves photos by library id only', async () => {
    const r = await http(server, '/photo/7/original');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/jpeg');
    expect((await http(server, '/photo/8/thumbnail')).status).toBe(404);
    expect((await http(server, '/photo/..%2f..%2fetc%2fpasswd/original')).status).toBe(404);
  });

  it('refuses a WebSocket without the token (401) or from a foreign Origin (403)', async () => {
    const status = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => {});
      });
    const base = `ws://127.0.0.1:${server.port}/events`;
    expect(await status(base)).toBe(401);
    expect(await status(`${base}?token=${server.token}`, { Origin: 'http://evil.example' })).toBe(403);
    expect(await status(`${base}?token=${server.token}`)).toBe(101);
  });

  it('pushes app events over the WebSocket as { event, payload }', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`, { headers: { Authorization: `Bearer ${server.token}` } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const got = new Promise<unknown>((resolve) => ws.once('message', (m) => resolve(JSON.parse(String(m)))));
    fake.emit('library.changed', { added: [5], changed: [], removed: [2] });
    expect(await got).toEqual({ event: 'library.changed', payload: { added: [5], changed: [], removed: [2] } });
    ws.close();
  });

  it('says the UI is not built (503) instead of a bare 404 when the build is missing', async () => {
    const s = await startServer(fake.app, { port: 0, staticDir: join(dir, 'no-build') });
    try {
      const r = await http(s, '/');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).error.message).toMatch(/npm run build:renderer/);
    } finally {
      await s.close();
    }
  });

  it('warns when asked to listen beyond the loopback interface', async () => {
    const s = await startServer(fake.app, { port: 0, host: '0.0.0.0', staticDir: join(dir, 'www') });
    try {
      expect(s.warning).toMatch(/network/);
      expect(s.url).toContain('127.0.0.1');
      // A rebinding domain is refused even when listening everywhere; an IP literal is fine.
      const bad = await call(s, 'folders.list', {}, { headers: { Host: `attacker.example:${s.port}` } });
      expect(bad.status).toBe(403);
      expect((await call(s, 'folders.list', {})).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
