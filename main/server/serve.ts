/**
 * `leanlens serve [--port N] [--host H] [--data DIR]`: the headless mode. Composes the app, starts
 * the bridge, prints the URL (with its per-run token) and shuts down cleanly on Ctrl-C.
 * The CLI parses nothing else for this command; it hands argv here.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../app.ts';
import type { AppOptions } from '../app-types.ts';
import { startServer, type RunningServer } from './index.ts';

export interface ServeOptions {
  port?: number;
  host?: string;
  dataDir: string;
  staticDir?: string;
  modelsDir?: string;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Parses `serve`'s own flags; throws with a message a person can act on. */
export function parseServeArgs(argv: string[], defaults: { dataDir: string }): ServeOptions {
  const out: ServeOptions = { dataDir: defaults.dataDir };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('--port must be a number between 0 and 65535');
        out.port = n;
        break;
      }
      case '--host':
        out.host = value();
        break;
      case '--data':
      case '--data-dir':
        out.dataDir = resolve(value());
        break;
      case '--static':
        out.staticDir = resolve(value());
        break;
      default:
        throw new Error(`unknown option for serve: ${a} (known: --port N, --host H, --data DIR)`);
    }
  }
  return out;
}

/** Where the built renderer is: next to the sources in a checkout, or beside the package. */
export function defaultStaticDir(): string {
  return join(repoRoot, 'dist', 'renderer');
}

/** Starts the app and the bridge; resolves with the running server (the caller owns shutdown). */
export async function serve(
  opts: ServeOptions,
  log: (line: string) => void = (l) => console.log(l),
): Promise<{ server: RunningServer; stop(): Promise<void> }> {
  const staticDir = opts.staticDir ?? defaultStaticDir();
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new Error(`the UI is not built (${staticDir}/index.html is missing): run \`npm run build:renderer\` first`);
  }
  const appOptions: AppOptions = { dataDir: opts.dataDir, live: true };
  if (opts.modelsDir) appOptions.modelsDir = opts.modelsDir;
  const app = await createApp(appOptions);
  let server: RunningServer;
  try {
    server = await startServer(app, { port: opts.port ?? 0, host: opts.host ?? '127.0.0.1', staticDir });
  } catch (e) {
    await app.close();
    throw e;
  }
  if (server.warning) log(`WARNING: ${server.warning}`);
  log(`LeanLens is running. Open this URL in your browser (it carries this run's access token):`);
  log(`  ${server.url}`);
  log(`Data folder: ${app.dataDir}. Press Ctrl-C to stop.`);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
    await app.close();
  };
  return { server, stop };
}

/** The `serve` command as the CLI runs it: parse, start, stop on SIGINT/SIGTERM. */
export async function runServeCommand(argv: string[], defaults: { dataDir: string }): Promise<void> {
  const opts = parseServeArgs(argv, defaults);
  const { stop } = await serve(opts);
  const onSignal = () => {
    stop().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
