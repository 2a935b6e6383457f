/**
 * The renderer's only door to the app: one async function per contract call, derived by
 * iterating over `callNames`, plus pushed events and photo URLs. Two transports carry it:
 * the headless server (HTTP + WebSocket, token in an HttpOnly cookie) and the Electron preload
 * (`window.leanlens`). Views never know which one they run on, except through `transport`.
 */
import { sentence } from './errors.ts';
import { ERRORS_IN_BODY, callNames, errorCodes, eventNames, type Api, type CallName, type EventName, type Events } from '../../../main/core/contract.ts';

export type PhotoKind = 'thumbnail' | 'original';
export type TransportKind = 'browser' | 'desktop';

/** An error that crossed the contract: a stable code and a message a person can act on. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

export interface Transport {
  readonly kind: TransportKind;
  call(name: CallName, args: unknown): Promise<unknown>;
  /** Delivers every pushed event; `onConnection` tells when the event stream drops or returns. */
  listen(onEvent: (event: EventName, payload: unknown) => void, onConnection?: (connected: boolean) => void): () => void;
  photoUrl(id: number, kind: PhotoKind, version?: number): string;
}

export type Client = Api & {
  readonly transport: TransportKind;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  onConnection(listener: (connected: boolean) => void): () => void;
  photoUrl(id: number, kind: PhotoKind, version?: number): string;
};

export function createClient(transport: Transport): Client {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>();
  const connection = new Set<(c: boolean) => void>();
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    transport.listen(
      (event, payload) => {
        for (const fn of listeners.get(event) ?? []) fn(payload);
      },
      (c) => {
        for (const fn of connection) fn(c);
      },
    );
  };
  const client: Record<string, unknown> = {
    transport: transport.kind,
    on(event: EventName, listener: (p: unknown) => void) {
      start();
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(listener);
      return () => listeners.get(event)!.delete(listener);
    },
    onConnection(listener: (c: boolean) => void) {
      start();
      connection.add(listener);
      return () => connection.delete(listener);
    },
    photoUrl: (id: number, kind: PhotoKind, version?: number) => transport.photoUrl(id, kind, version),
  };
  for (const name of callNames) client[name] = (args: unknown) => transport.call(name, args);
  return client as unknown as Client;
}

// ---- Headless server: POST /api/<call>, WebSocket /events, GET /photo/<id>/<kind> ----------------

export function httpTransport(base: URL = new URL('./', location.href)): Transport {
  return {
    kind: 'browser',
    async call(name, args) {
      let res: Response;
      try {
        res = await fetch(new URL(`api/${name}`, base), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', [ERRORS_IN_BODY.header]: ERRORS_IN_BODY.value },
          body: JSON.stringify(args ?? {}),
          credentials: 'same-origin',
        });
      } catch {
        throw new CallError('offline', 'LeanLens is not reachable — is `leanlens serve` still running?');
      }
      let body: { ok: boolean; result?: unknown; error?: { code: string; message: string } } | null = null;
      try {
        body = await res.json();
      } catch {
        /* handled below */
      }
      if (body?.ok) return body.result;
      if (res.status === 401) {
        throw new CallError('unauthorized', 'This page has no access token. Open the URL printed by `leanlens serve`.');
      }
      throw new CallError(body?.error?.code ?? 'failed', body?.error?.message ?? `request failed (${res.status})`);
    },
    listen(onEvent, onConnection) {
      let socket: WebSocket | null = null;
      let closed = false;
      let delay = 500;
      const url = new URL('events', base);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const connect = () => {
        socket = new WebSocket(url);
        socket.onopen = () => {
          delay = 500;
          onConnection?.(true);
        };
        socket.onmessage = (m) => {
          try {
            const { event, payload } = JSON.parse(String(m.data));
            onEvent(event, payload);
          } catch {
            /* a malformed frame is dropped, the stream goes on */
          }
        };
        socket.onclose = () => {
          if (closed) return;
          onConnection?.(false);
          setTimeout(connect, delay);
          delay = Math.min(delay * 2, 10_000);
        };
      };
      connect();
      return () => {
        closed = true;
        socket?.close();
      };
    },
    photoUrl(id, kind, version) {
      return new URL(`photo/${id}/${kind}${version ? `?v=${Math.round(version)}` : ''}`, base).href;
    },
  };
}

// ---- Electron: the preload exposes the contract as `window.leanlens` -----------------------------

/**
 * What the Electron preload exposes: the contract's calls (typed as `Api`), event subscription, and
 * URLs of the app's photo protocol. Kept here so the preload and the renderer agree on one shape.
 */
export type DesktopBridge = Api & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

declare global {
  interface Window {
    leanlens?: DesktopBridge;
  }
}

/** Electron's IPC turns errors into "Error invoking remote method 'x': Error: code: message". */
export function desktopError(e: unknown): CallError {
  const raw = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string })?.code;
  const message = raw.replace(/^Error invoking remote method '[^']+': (?:\w*Error: )?/, '');
  // The preload sends the code as the message's prefix: "not-found: photo 12 is not in the library".
  const m = /^([a-z-]+):\s*(.*)$/s.exec(message);
  if (m && (errorCodes as readonly string[]).includes(m[1]!)) return new CallError(m[1]!, m[2]!);
  return new CallError(code ?? 'failed', message);
}

export function desktopTransport(bridge: DesktopBridge): Transport {
  return {
    kind: 'desktop',
    async call(name, args) {
      const fn = bridge[name] as (a: unknown) => Promise<unknown>;
      try {
        return await fn(args ?? {});
      } catch (e) {
        throw desktopError(e);
      }
    },
    listen(onEvent) {
      const offs = eventNames.map((event) => bridge.on(event, (payload) => onEvent(event, payload)));
      return () => offs.forEach((off) => off());
    },
    photoUrl(id, kind, version) {
      const base = `photo://${kind}/${id}`;
      return version ? `${base}?v=${Math.round(version)}` : base;
    },
  };
}

/** The client for wherever this page runs. */
export function connect(): Client {
  return createClient(window.leanlens ? desktopTransport(window.leanlens) : httpTransport());
}

/** What a person reads for an error: one capitalised sentence (see ./errors.ts). */
export function errorMessage(e: unknown): string {
  return sentence(e instanceof Error ? e.message : String(e));
}
export function errorCode(e: unknown): string | undefined {
  return e instanceof CallError ? e.code : undefined;
}
