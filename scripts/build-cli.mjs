#!/usr/bin/env node
// Compiles the `leanlens` CLI with esbuild into dist/cli-bundle/, so a command starts without tsx
// compiling TypeScript first (`--help` ~10× faster). Run by `npm install` (scripts/postinstall.mjs)
// and `npm run build:cli`; bin/leanlens.mjs uses the result only while it matches main/ (see
// bin/sources-stamp.mjs).
//
// Layout, and why it must be this one:
//   leanlens.js          the CLI (main/cli/main.ts and what it imports); heavy parts are split
//   chunk-*.js           into chunks that load only in the commands that import them;
//   worker.js, …         every worker thread or child process the code starts by a file beside
//                        its module (workerEntry(import.meta.url, name), new URL('./x.js', …)),
//                        as its own entry, so `import.meta.url` of any chunk finds it;
//   migrations/          the store's SQL, read beside the module;
//   sources.json         the stamp of main/ this was built from.
// The folder is two levels below the package root, like main/app/, so paths written relative to
// a module's own folder ('../../models', '../../dist/renderer') land in the same place.
// Native and other packages stay external and load from node_modules at run time.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sourcesStamp } from '../bin/sources-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_DIR = join(root, 'dist', 'cli-bundle');

/** Packages compiled into the bundle (pure ESM, loaded by most commands); every other package stays external. */
const BUNDLED_PACKAGES = new Set(['zod']);

/**
 * Every file under main/ that uses `import.meta.url`, and what the build does for it. A new use
 * fails the build until it is listed here: a bundle moves modules, and a path relative to a
 * module that the build does not know about would break only at run time.
 */
const META_URL_USES = {
  'main/app/models-dir.ts': 'models/ two levels up: the bundle folder is two levels deep too',
  'main/server/index.ts': 'dist/renderer two levels up: same',
  'main/services/store/index.ts': 'migrations/ beside the module: copied',
  'main/services/workers/index.ts': 'compiled <name>.js beside the caller: each worker or child process is an entry (the shims serve tsx only)',
  'main/services/encoder/index.ts': "processEntry(…, 'encoder-process')",
  'main/services/store/integrity-check.ts': "processEntry(…, 'integrity-process')",
  'main/services/media/heic.ts': "workerEntry(…, 'heic-worker')",
  'main/services/store/page-size.ts': "workerEntry(…, 'page-size-worker')",
  'main/services/media/heic-worker.ts': 'createRequire(import.meta.url) for libheif-js: resolved from node_modules, which stays external',
  'main/services/text/engine.ts': 'createRequire(import.meta.url) for @tesseract.js-data/<lang> and the tesseract.js worker script: resolved from node_modules, which stays external',
  'main/lab/transforms/make-variant.ts': "workerEntry(…, 'tower-worker')",
  'main/lab/bench/speed.ts': "new URL('./child.js', …)",
  'main/electron/main.ts': 'not part of the CLI',
};

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The worker / child entries the code starts by a file name beside its module: { name: source }. */
export function workerEntries() {
  const entries = {};
  const unknown = [];
  for (const file of tsFiles(join(root, 'main'))) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('import.meta.url')) continue;
    const rel = relative(root, file).split('\\').join('/');
    if (!(rel in META_URL_USES)) unknown.push(rel);
    const names = [
      ...[...text.matchAll(/(?:workerEntry|processEntry)\(\s*import\.meta\.url\s*,\s*'([\w-]+)'\s*\)/g)].map((m) => m[1]),
      ...[...text.matchAll(/new URL\(\s*'\.\/([\w-]+)\.js'\s*,\s*import\.meta\.url\s*\)/g)].map((m) => m[1]),
    ];
    for (const name of names) {
      const source = join(dirname(file), `${name}.ts`);
      if (!existsSync(source)) throw new Error(`${rel} starts ${name}.js but ${relative(root, source)} does not exist`);
      if (entries[name] && entries[name] !== source) {
        throw new Error(`two workers are named ${name}.js (${relative(root, entries[name])}, ${relative(root, source)}); the CLI bundle puts every worker in one folder, so rename one`);
      }
      entries[name] = source;
    }
  }
  if (unknown.length) {
    throw new Error(`import.meta.url is used in ${unknown.join(', ')}, which scripts/build-cli.mjs does not know: check the path still resolves from dist/cli-bundle/ and add it to META_URL_USES`);
  }
  return entries;
}

/** Resolves esbuild through tsx, which depends on it: present wherever the CLI's dependencies are. */
function loadEsbuild() {
  const require = createRequire(import.meta.url);
  try {
    return require(createRequire(require.resolve('tsx/package.json')).resolve('esbuild'));
  } catch {
    return require('esbuild');
  }
}

/** Builds into `outDir` (default dist/cli-bundle), replacing it only once the new build is complete. */
export async function buildCli(outDir = BUNDLE_DIR) {
  const esbuild = loadEsbuild();
  // Taken before compiling: an edit made during the build makes the result stale, never the reverse.
  const stamp = sourcesStamp(join(root, 'main'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((p) => !BUNDLED_PACKAGES.has(p));
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { leanlens: join(root, 'main', 'cli', 'main.ts'), ...workerEntries() },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: external.flatMap((p) => [p, `${p}/*`]),
    // Chunks beside the entries (not in a subfolder), so every module's import.meta.url is one folder.
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  cpSync(join(root, 'main', 'services', 'store', 'migrations'), join(tmp, 'migrations'), { recursive: true });
  writeFileSync(join(tmp, 'sources.json'), JSON.stringify({ ...stamp, builtAt: new Date().toISOString() }, null, 2) + '\n');
  // Swap in the finished build: a command starting meanwhile sees the old build or the new one.
  mkdirSync(dirname(outDir), { recursive: true });
  const old = `${outDir}.old-${process.pid}`;
  if (existsSync(outDir)) renameSync(outDir, old);
  renameSync(tmp, outDir);
  rmSync(old, { recursive: true, force: true });
  return { outDir, metafile: result.metafile };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  const outArg = process.argv.indexOf('--out');
  buildCli(outArg > 0 ? join(process.cwd(), process.argv[outArg + 1]) : BUNDLE_DIR).then(
    ({ outDir }) => console.log(`build:cli: ${relative(root, outDir)} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`),
    (err) => {
      console.error(`build:cli: ${err.message}`);
      process.exit(1);
    },
  );
}
