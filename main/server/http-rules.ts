/**
 * The headless server's request rules as pure functions, so each is unit-tested alone (like the
 * desktop app's rules in main/electron/security.ts): which Host headers name this server (the
 * DNS-rebinding defence), which Origins may call it, where the token may come from, and the HTTP
 * status of each contract error code.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { AppError } from '../core/contract.ts';

const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface Binding {
  /** The address the server listens on, as given ('127.0.0.1', '0.0.0.0', '::1', a LAN IP …). */
  host: string;
  port: number;
}

/** Bound to every interface: any IP literal of this machine reaches it legitimately. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

export function isLoopbackBind(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host === '::1';
}

/**
 * DNS-rebinding defence: the Host header must name this server — a loopback name, the bound
 * address, or (when bound to every interface) an IP literal — on this port, never a domain name
 * that some page could point at us.
 */
export function hostAllowed(hostHeader: string | undefined, bind: Binding): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const name = m[1]!;
  if (Number(m[2] ?? '80') !== bind.port) return false;
  if (LOOPBACK_NAMES.has(name)) return true;
  const bare = name.replace(/^\[|\]$/g, '');
  if (bare === bind.host.toLowerCase()) return true;
  return isWildcard(bind.host) && isIP(bare) !== 0;
}

/** Browsers send Origin on cross-site requests: only the page this server served may call it. */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  return origin.toLowerCase() === `http://${String(hostHeader).toLowerCase()}`;
}

/** Constant-time comparison, so the token cannot be guessed from response times. */
export function sameSecret(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

export interface TokenSources {
  /** `?token=` of the URL. */
  query: string | null;
  authorization: string | undefined;
  cookieHeader: string | undefined;
}

/**
 * Whether the request carries the token: in the query (the link printed at start), a bearer
 * header (scripts), or this server's cookie (set after the first visit). `fromQuery` tells the
 * server to set the cookie and redirect to a URL without the token.
 */
export function tokenFrom(src: TokenSources, cookieName: string, token: string): { ok: boolean; fromQuery: boolean } {
  if (sameSecret(src.query, token)) return { ok: true, fromQuery: true };
  const auth = src.authorization;
  if (auth && /^Bearer\s+/i.test(auth) && sameSecret(auth.replace(/^Bearer\s+/i, '').trim(), token)) {
    return { ok: true, fromQuery: false };
  }
  return { ok: sameSecret(parseCookies(src.cookieHeader)[cookieName], token), fromQuery: false };
}

/** HTTP status for each contract error code. */
export function statusOf(code: AppError['code']): number {
  switch (code) {
    case 'invalid-argument':
      return 400;
    case 'not-found':
      return 404;
    case 'unsupported':
      return 501;
    default:
      return 500;
  }
}
