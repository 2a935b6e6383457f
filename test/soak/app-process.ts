/**
 * The app under soak: `leanlens index --watch` (the CLI's live indexer: chokidar watcher,
 * background indexer, encoder process, local socket) as a real child process, started, killed with
 * SIGKILL or stopped with SIGTERM, and sampled for memory (its RSS plus its encoder's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { findRunningApp, type AppConnection } from '../../main/server/local-socket-client.ts';

const BIN = resolve('bin/leanlens.mjs');

export class AppProcess {
  private child: ChildProcess | null = null;
  private log = '';
  private conn: AppConnection | null = null;
  /** Set while the soak itself brings the app down, so calls cut by it are not counted as failures. */
  downSince: number | null = null;
  starts = 0;
  /** Connections the running app did not accept in time (slow hello under load), retried. */
  slowConnects = 0;

  constructor(readonly dataDir: string) {}

  get pid(): number | null {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? (this.child.pid ?? null) : null;
  }

  /** The last lines the app wrote to stderr (for failure messages). */
  tail(): string {
    return this.log.slice(-3000);
  }

  /** Starts it and resolves once it watches (its socket answers before that, while it catches up). */
  async start(timeoutMs = 180_000): Promise<void> {
    this.log = '';
    const child = spawn(process.execPath, [BIN, '--data', this.dataDir, 'index', '--watch', '--no-ocr'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LEANLENS_STANDALONE: '' },
    });
    this.child = child;
    this.starts++;
    child.stderr!.on('data', (d) => (this.log += d));
    const deadline = Date.now() + timeoutMs;
    while (!this.log.includes('Watching')) {
      if (child.exitCode !== null) throw new Error(`leanlens index --watch exited with ${child.exitCode}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`leanlens index --watch did not start in ${timeoutMs / 1000} s:\n${this.tail()}`);
      await sleep(100);
    }
    this.downSince = null;
  }

  /** Children of the app (its encoder process). */
  children(): number[] {
    const pid = this.pid;
    if (!pid) return [];
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** RSS of the app and its children, MB; null when it is not running. */
  rssMb(): number | null {
    const pid = this.pid;
    if (!pid) return null;
    let kb = 0;
    for (const p of [pid, ...this.children()]) {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
        if (m) kb += Number(m[1]);
      } catch {
        // exited between the listing and the read
      }
    }
    return kb / 1024;
  }

  /** kill -9: no chance to save, close or clean up. Returns the encoder pids it had. */
  async kill9(): Promise<number[]> {
    return this.bringDown('SIGKILL');
  }

  /** Ctrl-C as a user does it: the app saves and closes. */
  async stop(): Promise<number[]> {
    return this.bringDown('SIGTERM');
  }

  /**
   * A call to the running app over its local socket (as `leanlens search` does). Connecting is
   * retried for up to a minute while the process is alive: on a loaded machine its answer to the
   * client's hello can take longer than the client's 1 s (counted in `slowConnects`).
   */
  async call<T>(name: string, args: unknown = {}): Promise<T> {
    let conn: AppConnection | null = null;
    for (const until = Date.now() + 60_000; !conn; ) {
      try {
        conn = await this.connection();
      } catch (err) {
        if (!this.pid || Date.now() > until) throw err;
        this.slowConnects++;
        await sleep(500);
      }
    }
    try {
      return await conn.call<T>(name, args);
    } catch (err) {
      this.drop();
      throw err;
    }
  }

  drop(): void {
    this.conn?.close();
    this.conn = null;
  }

  /** A connection of its own (the search loop keeps one, so a check's failure does not cut it). */
  async open(): Promise<AppConnection> {
    const found = await findRunningApp(this.dataDir);
    if (found.kind !== 'connected') throw new Error(found.kind === 'refused' ? `socket refused: ${found.reason}` : 'no app answers on the data folder');
    return found.app;
  }

  private async connection(): Promise<AppConnection> {
    this.conn ??= await this.open();
    return this.conn;
  }

  private async bringDown(signal: NodeJS.Signals): Promise<number[]> {
    const child = this.child;
    const encoders = this.children();
    this.downSince = Date.now();
    this.drop();
    if (!child || child.exitCode !== null || child.signalCode !== null) return encoders;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill(signal);
    });
    return encoders;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether a process is still alive (an encoder that outlived its app). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
