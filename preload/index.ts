/**
 * The preload: exposes the contract — and nothing else — to the renderer as `window.leanlens`.
 *
 * One async function per contract call (resolving to the call's result) plus `on(event, cb)` for
 * the contract's events, returning an unsubscribe function. Never `ipcRenderer` itself and never a
 * generic `invoke(channel, …)`: the renderer cannot name a channel.
 *
 * This file must stay self-contained. A sandboxed preload can only `require('electron')`, so it
 * cannot import contract.ts at run time (types only); the call and event names come from the main
 * process, which derives them from the contract and passes them in `process.argv` (see
 * main/electron/bridge-spec.ts). The build compiles this file alone to CommonJS
 * (dist/preload/index.cjs) — see scripts/build-main.mjs.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { Api, EventName, Events } from '../main/core/contract.ts';

/** Must equal BRIDGE_ARGUMENT_PREFIX in main/electron/bridge-spec.ts (a unit test runs both together). */
const BRIDGE_ARGUMENT_PREFIX = '--leanlens-bridge=';

interface BridgeSpec {
  calls: { name: string; channel: string }[];
  events: string[];
  eventChannel: string;
}

export type LeanLensBridge = Api & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

type Envelope = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

function readSpec(argv: readonly string[]): BridgeSpec {
  const arg = argv.find((a) => a.startsWith(BRIDGE_ARGUMENT_PREFIX));
  if (!arg) throw new Error('LeanLens preload: the contract was not passed by the main process');
  return JSON.parse(decodeURIComponent(arg.slice(BRIDGE_ARGUMENT_PREFIX.length))) as BridgeSpec;
}

function buildBridge(spec: BridgeSpec): LeanLensBridge {
  const bridge: Record<string, unknown> = {};
  for (const { name, channel } of spec.calls) {
    bridge[name] = async (args: unknown) => {
      const answer = (await ipcRenderer.invoke(channel, args)) as Envelope;
      if (answer && answer.ok) return answer.result;
      // Only an Error's message survives contextBridge, so the code travels as its prefix:
      // "not-found: photo 12 is not in the library". The renderer's client splits it back.
      const error = answer && !answer.ok ? answer.error : { code: 'failed', message: 'no answer from the main process' };
      throw new Error(`${error.code}: ${error.message}`);
    };
  }

  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const known = new Set(spec.events);
  ipcRenderer.on(spec.eventChannel, (_event, message: { event: string; payload: unknown }) => {
    const set = message && listeners.get(message.event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(message.payload);
      } catch (err) {
        console.error(`LeanLens: a listener for "${message.event}" failed`, err);
      }
    }
  });
  bridge.on = (event: string, listener: (payload: unknown) => void) => {
    if (!known.has(event)) throw new Error(`invalid-argument: unknown event "${String(event)}"`);
    if (typeof listener !== 'function') throw new Error('invalid-argument: the listener must be a function');
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  };
  return Object.freeze(bridge) as unknown as LeanLensBridge;
}

contextBridge.exposeInMainWorld('leanlens', buildBridge(readSpec(process.argv)));
