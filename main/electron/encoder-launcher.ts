/**
 * Starts the encoder process as an Electron `utilityProcess` (Ente's pattern) instead of a plain
 * Node child: Electron supervises it like its other helper processes (task manager name, sandboxed
 * process model, killed with the app), and it runs the same `encoder-process.js` over `process.parentPort`.
 * Passed into the core as `EncoderOptions.launcher`; the encoder restarts it when it dies.
 */
import { utilityProcess } from 'electron';
import type { EncoderLauncher, EncoderProcess } from '../app/index.ts';

export const utilityProcessLauncher: EncoderLauncher = ({ script, args, modelId }) => {
  const child = utilityProcess.fork(script, args, {
    serviceName: `LeanLens encoder (${modelId})`,
    // ORT and the engine log to stderr; keep it visible in the app's log rather than lost.
    stdio: 'inherit',
  });
  // Messages posted before the process has spawned are kept and sent once it has.
  let spawned = false;
  const early: unknown[] = [];
  child.once('spawn', () => {
    spawned = true;
    for (const m of early.splice(0)) child.postMessage(m);
  });
  let exited = false;
  const exitListeners: Parameters<EncoderProcess['onExit']>[0][] = [];
  child.once('exit', (code) => {
    exited = true;
    // Electron reports only an exit code, not the signal that caused it.
    for (const l of exitListeners) l({ code, signal: null });
  });
  return {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (exited) return;
      if (!spawned) early.push(message);
      else child.postMessage(message);
    },
    onMessage(listener) {
      child.on('message', listener);
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    kill() {
      if (!exited) child.kill();
    },
  };
};
