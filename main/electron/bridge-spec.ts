/**
 * How the preload learns the contract. A sandboxed preload can only `require('electron')`, not
 * our modules, so it cannot import contract.ts at run time. The main process derives this small
 * spec from `callNames`/`eventNames` and hands it down through `webPreferences.additionalArguments`
 * (it appears in the preload's `process.argv`); the preload is typed from contract.ts at compile
 * time. Adding a call to the contract therefore needs no edit here or in the preload.
 * Must never import 'electron'.
 */
import { callNames, eventNames, type CallName, type EventName } from '../core/contract.ts';

/** Prefix of the argv entry carrying the spec; the preload looks for exactly this string. */
export const BRIDGE_ARGUMENT_PREFIX = '--leanlens-bridge=';
/** One `ipcMain.handle` channel per call: `leanlens:call:<name>`. */
export const CALL_CHANNEL_PREFIX = 'leanlens:call:';
/** The single channel every pushed event travels on, as `{ event, payload }`. */
export const EVENT_CHANNEL = 'leanlens:event';

export interface BridgeSpec {
  calls: { name: CallName; channel: string }[];
  events: EventName[];
  eventChannel: string;
}

export function callChannel(name: CallName): string {
  return CALL_CHANNEL_PREFIX + name;
}

export function bridgeSpec(): BridgeSpec {
  return {
    calls: callNames.map((name) => ({ name, channel: callChannel(name) })),
    events: [...eventNames],
    eventChannel: EVENT_CHANNEL,
  };
}

/** The argv entry for `additionalArguments` (URI-encoded so it survives the command line). */
export function bridgeArgument(spec: BridgeSpec = bridgeSpec()): string {
  return BRIDGE_ARGUMENT_PREFIX + encodeURIComponent(JSON.stringify(spec));
}

/** What travels on EVENT_CHANNEL. */
export interface EventMessage<E extends EventName = EventName> {
  event: E;
  payload: unknown;
}
