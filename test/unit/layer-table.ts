/**
 * The layer table: what each folder may import (README "Architecture"; checked by
 * test/unit/layers.test.ts with ./layer-check.ts). Adding a service or a feature means adding its
 * name to SERVICES or FEATURES.
 */
import type { Layer, Table } from './layer-check.ts';

const SERVICES = ['store', 'ann', 'media', 'models', 'encoder', 'library', 'indexer', 'search', 'workers', 'albums', 'duplicates', 'text'];
/** Features built on the services, each in its own folder under main/. */
const FEATURES = ['lab'];

const CORE = 'main/core/**';
const CONTRACT = 'main/core/contract.ts';
/**
 * Besides the contract, the entry points share three pure rules of core with the services: where a
 * path may lead (paths.ts), what content type a file is served as (mime.ts) and how a size is
 * written (units.ts). One copy each, so the server, the desktop protocol, the CLI and the library
 * can never disagree.
 */
const SHARED_RULES = 'main/core/{paths,mime,units}.ts';
/**
 * The transports in main/server that other entry points start: the HTTP bridge (`leanlens serve`)
 * and the contract on a local socket, server and client (the CLI asks a running app through it;
 * the desktop app and `serve` answer on it). Separate files, so the CLI's client loads no HTTP server.
 */
const SERVER_ENTRIES = 'main/server/{index,local-socket,local-socket-client}.ts';
/** What the entry points may import of the app: its public entry (createApp, its types, and the few core rules they share). */
const APP_ENTRY = 'main/app/index.ts';
export const SERVICE_ENTRIES = `main/services/{${SERVICES.join(',')}}/index.ts`;
const FEATURE_ENTRIES = `main/{${FEATURES.join(',')}}/index.ts`;
/** Shell modules unit-tested without Electron, so they must not import it. */
const ELECTRON_FREE_SHELL = 'main/electron/{security,photo-url,ipc-calls,app-files,bridge-spec,window-state}.ts';
/** Only the shell and the preload may import 'electron': everything else runs in plain Node. */
const NO_ELECTRON = ['electron'];

export const LAYERS: Table = {
  scope: ['main/**', 'preload/**', 'renderer/src/**'],
  forbidden: [{ from: 'main/**', to: 'test/**', rule: 'nothing under main/ imports test/' }],
  layers: [
    // Pure logic and types: no I/O, so no native package and of Node only node:path (string
    // arithmetic on paths, for the one path-containment rule). zod (the contract's validators) and
    // protobufjs (ONNX graphs encoded in memory) are plain JS.
    { name: 'core', files: [CORE], imports: [CORE], packages: ['zod', 'protobufjs', 'node:path'] },
    ...SERVICES.map((s): Layer => ({
      name: `service ${s}`,
      files: [`main/services/${s}/**`],
      imports: [CORE, `main/services/${s}/**`, SERVICE_ENTRIES],
      packages: 'any',
      forbiddenPackages: NO_ELECTRON,
    })),
    ...FEATURES.map((f): Layer => ({
      name: `feature ${f}`,
      files: [`main/${f}/**`],
      imports: [CORE, `main/${f}/**`, SERVICE_ENTRIES],
      packages: 'any',
      forbiddenPackages: NO_ELECTRON,
    })),
    {
      name: 'app',
      files: ['main/app/**'],
      imports: [CORE, 'main/app/**', SERVICE_ENTRIES, FEATURE_ENTRIES],
      packages: 'any',
      forbiddenPackages: NO_ELECTRON,
    },
    // Entry points: the app and the contract, never a service's or feature's insides.
    {
      name: 'electron shell (Electron-free module)',
      files: [ELECTRON_FREE_SHELL],
      imports: [APP_ENTRY, CONTRACT, SHARED_RULES, 'main/electron/**'],
      packages: 'any',
      forbiddenPackages: NO_ELECTRON,
    },
    { name: 'electron shell', files: ['main/electron/**'], imports: [APP_ENTRY, CONTRACT, SHARED_RULES, 'main/electron/**', 'main/server/local-socket.ts'], packages: 'any' },
    // `leanlens serve` starts the headless server, so the CLI may load the server's entries.
    {
      name: 'cli',
      files: ['main/cli/**'],
      imports: [APP_ENTRY, CONTRACT, SHARED_RULES, 'main/cli/**', SERVER_ENTRIES],
      packages: 'any',
      forbiddenPackages: NO_ELECTRON,
    },
    { name: 'server', files: ['main/server/**'], imports: [APP_ENTRY, CONTRACT, SHARED_RULES, 'main/server/**'], packages: 'any', forbiddenPackages: NO_ELECTRON },
    // A sandboxed preload can require only 'electron': the contract is there for its types.
    { name: 'preload', files: ['preload/**'], imports: [CONTRACT], packages: ['electron'], typeOnly: true },
    // The renderer shares the contract and the one way sizes are written (the CLI writes them the same).
    { name: 'renderer', files: ['renderer/src/**'], imports: [CONTRACT, 'main/core/units.ts', 'renderer/src/**'], packages: ['svelte'] },
  ],
};
