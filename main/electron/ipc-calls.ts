/**
 * The body of every IPC handler, without Electron: check the sender, validate the argument
 * against the contract, run the call, and wrap the outcome in an envelope. Errors are returned,
 * not thrown, because a thrown Error loses everything but its message crossing IPC.
 * Must never import 'electron'.
 */
import { AppError, parseArgs, type Api, type CallName } from '../core/contract.ts';
import { isAppPageUrl } from './security.ts';

export type ErrorCode = AppError['code'] | 'forbidden';

export type Envelope<T = unknown> =
  | { ok: true; result: T }
  | { ok: false; error: { code: ErrorCode; message: string } };

/**
 * Answers one call. `senderUrl` is `event.senderFrame?.url`; anything but the app's own page is
 * refused before the argument is even looked at. `api` may still be starting (a promise): calls
 * made while the database opens wait for it, and a failed start is reported like any failure.
 */
export async function answerCall(api: Api | PromiseLike<Api>, name: CallName, senderUrl: string | null | undefined, raw: unknown): Promise<Envelope> {
  if (!isAppPageUrl(senderUrl)) {
    return { ok: false, error: { code: 'forbidden', message: `${name}: refused, the request did not come from the LeanLens window` } };
  }
  try {
    const args = parseArgs(name, raw);
    const running = await api;
    const method = running[name] as (a: unknown) => Promise<unknown>;
    const result = await method.call(running, args);
    return { ok: true, result };
  } catch (err) {
    return { ok: false, error: errorOf(err) };
  }
}

export function errorOf(err: unknown): { code: ErrorCode; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  // Unexpected failures keep their message (a person can act on "disk full") but never a stack.
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'failed', message: message || 'unexpected error' };
}
