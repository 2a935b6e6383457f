import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../main/core/contract.ts';
import { hostAllowed, originAllowed, parseCookies, sameSecret, statusOf, tokenFrom } from '../../main/server/http-rules.ts';

describe('hostAllowed: the DNS-rebinding defence', () => {
  const loop = { host: '127.0.0.1', port: 7117 };
  it('accepts loopback names on the bound port', () => {
    expect(hostAllowed('127.0.0.1:7117', loop)).toBe(true);
    expect(hostAllowed('localhost:7117', loop)).toBe(true);
    expect(hostAllowed('[::1]:7117', loop)).toBe(true);
    expect(hostAllowed('LOCALHOST:7117', loop)).toBe(true);
  });
  it('refuses another port, a missing header, and a domain name that could point at us', () => {
    expect(hostAllowed('127.0.0.1:8080', loop)).toBe(false);
    expect(hostAllowed('127.0.0.1', loop)).toBe(false); // port 80 implied
    expect(hostAllowed(undefined, loop)).toBe(false);
    expect(hostAllowed('evil.example:7117', loop)).toBe(false);
    expect(hostAllowed('localhost.evil.example:7117', loop)).toBe(false);
    expect(hostAllowed('127.0.0.1:7117:1', loop)).toBe(false);
  });
  it('accepts the bound LAN address, and any IP literal (never a name) when bound to every interface', () => {
    expect(hostAllowed('192.168.1.5:7117', { host: '192.168.1.5', port: 7117 })).toBe(true);
    expect(hostAllowed('192.168.1.6:7117', { host: '192.168.1.5', port: 7117 })).toBe(false);
    const all = { host: '0.0.0.0', port: 7117 };
    expect(hostAllowed('10.0.0.7:7117', all)).toBe(true);
    expect(hostAllowed('[fe80::1]:7117', all)).toBe(true);
    expect(hostAllowed('photos.lan:7117', all)).toBe(false);
  });
});

describe('originAllowed', () => {
  it('allows same-origin pages and requests without an Origin (curl, scripts)', () => {
    expect(originAllowed(undefined, '127.0.0.1:7117')).toBe(true);
    expect(originAllowed('http://127.0.0.1:7117', '127.0.0.1:7117')).toBe(true);
  });
  it('refuses any other origin', () => {
    expect(originAllowed('http://evil.example', '127.0.0.1:7117')).toBe(false);
    expect(originAllowed('http://127.0.0.1:7118', '127.0.0.1:7117')).toBe(false);
    expect(originAllowed('https://127.0.0.1:7117', '127.0.0.1:7117')).toBe(false);
    expect(originAllowed('null', '127.0.0.1:7117')).toBe(false);
  });
});

describe('tokenFrom', () => {
  const token = 'a'.repeat(32);
  const none = { query: null, authorization: undefined, cookieHeader: undefined };
  it('takes the token from the query (and says so), a bearer header or this server\'s cookie', () => {
    expect(tokenFrom({ ...none, query: token }, 'c', token)).toEqual({ ok: true, fromQuery: true });
    expect(tokenFrom({ ...none, authorization: `Bearer ${token}` }, 'c', token)).toEqual({ ok: true, fromQuery: false });
    expect(tokenFrom({ ...none, cookieHeader: `x=1; c=${token}` }, 'c', token)).toEqual({ ok: true, fromQuery: false });
  });
  it('refuses a wrong, shorter, missing token, or another server\'s cookie', () => {
    expect(tokenFrom(none, 'c', token).ok).toBe(false);
    expect(tokenFrom({ ...none, query: 'b'.repeat(32) }, 'c', token).ok).toBe(false);
    expect(tokenFrom({ ...none, query: token.slice(1) }, 'c', token).ok).toBe(false);
    expect(tokenFrom({ ...none, authorization: `Basic ${token}` }, 'c', token).ok).toBe(false);
    expect(tokenFrom({ ...none, cookieHeader: `other=${token}` }, 'c', token).ok).toBe(false);
  });
  it('compares secrets exactly', () => {
    expect(sameSecret(token, token)).toBe(true);
    expect(sameSecret('', token)).toBe(false);
    expect(sameSecret(null, token)).toBe(false);
  });
  it('parses cookies, keeping a malformed escape as it is', () => {
    expect(parseCookies('a=1; b=%20x; c=%zz; bad')).toEqual({ a: '1', b: ' x', c: '%zz' });
  });
});

describe('statusOf', () => {
  it('gives every contract error code a status', () => {
    const statuses = Object.fromEntries(errorCodes.map((c) => [c, statusOf(c)]));
    expect(statuses).toEqual({ 'invalid-argument': 400, 'not-found': 404, unsupported: 501, failed: 500 });
  });
});
