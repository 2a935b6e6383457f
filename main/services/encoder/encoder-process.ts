/**
 * Entry of the encoder process. ONNX Runtime runs here, not in the app's process, so a native
 * crash (a bad model, a GPU driver fault) kills only this process and the app restarts it.
 *
 * Two transports, the same messages: a Node child started with `child_process.fork` (CLI, server,
 * tests) talks over `process.send`; an Electron `utilityProcess` talks over `process.parentPort`.
 * The first message is the engine's config; then requests, answered one at a time in order.
 */
import { Engine } from './engine.ts';
import type { Envelope, Response } from './protocol.ts';

/** Electron's utility-process port, typed structurally: services never import electron. */
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
let send: (msg: Response) => void;
let listen: (handler: (msg: Envelope) => void) => void;

if (parentPort) {
  send = (msg) => parentPort.postMessage(msg);
  listen = (handler) => parentPort.on('message', (e) => handler(e.data as Envelope));
} else if (process.send) {
  send = (msg) => {
    // The app may be gone (it closed us, or died): nobody is left to answer, so just stop.
    if (process.connected) process.send!(msg, undefined, undefined, (err) => err && process.exit(0));
  };
  listen = (handler) => process.on('message', (msg) => handler(msg as Envelope));
  // The app died or closed the channel (kill -9 of the app included): never outlive it.
  process.on('disconnect', () => process.exit(0));
} else {
  throw new Error('encoder child: started without an IPC channel (use child_process.fork or utilityProcess.fork)');
}

let engine: Engine | null = null;
// Requests are served one at a time, in order: ORT already uses every intra-op thread for one
// run, and ordering keeps batch results matched to their callers.
let queue: Promise<unknown> = Promise.resolve();

listen((msg) => {
  if (msg.kind === 'init') {
    engine = new Engine(msg.config);
    return;
  }
  queue = queue.then(async () => {
    let reply: Response;
    try {
      if (!engine) throw new Error('encoder child: request before init');
      reply = await engine.handle(msg);
    } catch (err) {
      reply = { id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    send(reply);
  });
});
