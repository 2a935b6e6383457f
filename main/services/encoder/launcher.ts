/**
 * How the encoder process is started. The front (index.ts) only needs a handle that sends and
 * receives messages and reports the process's death; the Node launcher here uses
 * `child_process.fork` (CLI, server, tests), and the Electron shell passes one built on
 * `utilityProcess.fork` (main/electron/encoder-launcher.ts) — services never import electron.
 */
import { fork } from 'node:child_process';
import type { Envelope, Response } from './protocol.ts';

export interface EncoderExit {
  code: number | null;
  /** The signal that killed it (e.g. 'SIGKILL', 'SIGSEGV'), when the platform says. */
  signal: string | null;
  /** Set when the process could not be started at all. */
  error?: string;
}

/** A started encoder process, whatever started it. */
export interface EncoderProcess {
  readonly pid: number | undefined;
  /** Must not throw when the process has just died: its exit is reported through onExit. */
  send(message: Envelope): void;
  onMessage(listener: (message: Response) => void): void;
  /** Called once, when the process is gone (crash, kill, or after kill()). */
  onExit(listener: (exit: EncoderExit) => void): void;
  kill(): void;
}

export interface EncoderLaunch {
  /** The file to run: the compiled `encoder-process.js`, or (from source) the tsx shim. */
  script: string;
  args: string[];
  /** For process names and messages. */
  modelId: string;
}

export type EncoderLauncher = (launch: EncoderLaunch) => EncoderProcess;

/** `child_process.fork` with 'advanced' serialization, so typed arrays travel as typed arrays. */
export const forkLauncher: EncoderLauncher = ({ script, args }) => {
  const child = fork(script, args, {
    serialization: 'advanced',
    // Not the parent's flags (a debugger port, test-runner loaders): the child needs none.
    execArgv: [],
    // The child's output goes to stderr, never to stdout, which the CLI may use for JSON.
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  let exited = false;
  const exitListeners: ((e: EncoderExit) => void)[] = [];
  const finish = (e: EncoderExit) => {
    if (exited) return;
    exited = true;
    for (const l of exitListeners) l(e);
  };
  child.on('exit', (code, signal) => finish({ code, signal }));
  // EPIPE / channel-closed errors of a dying child end up here; its death is reported by 'exit'.
  // Without a listener they would be thrown as an unhandled 'error' event in the app's process.
  child.on('error', (err) => {
    if (child.pid === undefined) finish({ code: null, signal: null, error: err.message });
  });
  return {
    pid: child.pid,
    send(message) {
      if (!child.connected) return;
      try {
        child.send(message, undefined, undefined, () => {});
      } catch {
        // The channel closed between the check and the send: 'exit' follows.
      }
    },
    onMessage(listener) {
      child.on('message', (m) => listener(m as Response));
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
};
