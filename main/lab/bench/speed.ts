/**
 * Runs the measuring child (child.ts) for one model and returns its SpeedReport. One child per
 * model, one at a time, so each has the machine to itself and its peak memory is its own.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPEED_MARKER, type SpeedJob, type SpeedReport } from './speed-protocol.ts';

function childCommand(): string[] {
  const compiled = fileURLToPath(new URL('./child.js', import.meta.url));
  if (import.meta.url.endsWith('.js') && existsSync(compiled)) return [compiled];
  return [fileURLToPath(new URL('./child-shim.mjs', import.meta.url)), new URL('./child.ts', import.meta.url).href];
}

export async function measureSpeed(job: SpeedJob, signal?: AbortSignal): Promise<SpeedReport> {
  signal?.throwIfAborted();
  const dir = mkdtempSync(join(tmpdir(), 'leanlens-lab-'));
  const jobFile = join(dir, 'job.json');
  writeFileSync(jobFile, JSON.stringify(job));
  try {
    return await new Promise<SpeedReport>((resolve, reject) => {
      // Electron's binary runs as plain Node with this variable; node itself ignores it.
      const child = spawn(process.execPath, [...childCommand(), jobFile], {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
      const onAbort = () => child.kill('SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e) => reject(new Error(`could not start the measuring process: ${e.message}`)));
      child.on('close', (code) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
        const line = out.split('\n').find((l) => l.startsWith(`${SPEED_MARKER} `));
        if (code === 0 && line) {
          try {
            return resolve(JSON.parse(line.slice(SPEED_MARKER.length + 1)) as SpeedReport);
          } catch {
            /* fall through */
          }
        }
        const why = err.trim().split('\n').filter(Boolean).slice(-3).join(' ') || `exit code ${code}`;
        reject(new Error(`measuring model "${job.model.id}" failed: ${why}`));
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
