// electron-builder.yml checked against the native files that really exist in node_modules, with
// electron-builder's own code: its YAML reader (js-yaml), macro expander (${arch}) and file
// matchers (app-builder-lib's FileMatcher / getNodeModuleFileMatcher / getFileMatchers). Packaging
// itself needs the network (Electron download, native rebuild), so it is not run here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const fileMatcher = require('app-builder-lib/out/fileMatcher.js');
const { expandMacro } = require('app-builder-lib/out/util/macroExpander.js');
// The YAML parser electron-builder itself reads its config with (no new dependency).
const yaml = createRequire(require.resolve('app-builder-lib/out/fileMatcher.js'))('js-yaml');

const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<string, any>;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const appInfo = { productName: 'LeanLens', sanitizedProductName: 'LeanLens', version: pkg.version };
const asFile = { isDirectory: () => false };

type Platform = 'linux' | 'win' | 'mac';
const macros = (arch: string) => (p: string) => expandMacro(p, arch, appInfo, { '/*': '{,/**/*}' });

/** electron-builder's filter for files inside node_modules, for one platform and arch. */
function nodeModulesFilter(platform: Platform, arch: string) {
  const m = fileMatcher.getNodeModuleFileMatcher(root, join(root, 'release', 'app'), macros(arch), config[platform] ?? {}, {
    config,
    debugLogger: { isEnabled: false },
  });
  const filter = m.createFilter();
  return (rel: string) => filter(join(root, rel), asFile) as boolean;
}

/** electron-builder's filter for the app's own files (everything but node_modules). */
function appFilesFilter(platform: Platform, arch: string) {
  const info = {
    projectDir: root,
    buildResourcesDir: join(root, config.directories?.buildResources ?? 'build'),
    isPrepackedAppAsar: false,
    config,
    debugLogger: { isEnabled: false },
  };
  const matchers = fileMatcher.getMainFileMatchers(root, join(root, 'release', 'app'), macros(arch), config[platform] ?? {}, { info }, join(root, config.directories.output), false);
  const filter = matchers[0].createFilter();
  return (rel: string) => filter(join(root, rel), asFile) as boolean;
}

/** electron-builder's asarUnpack filter. */
function unpackFilter(platform: Platform, arch: string) {
  const m = fileMatcher.getFileMatchers(config, 'asarUnpack', join(root, 'release', 'app'), {
    macroExpander: macros(arch),
    customBuildOptions: config[platform] ?? {},
    globalOutDir: join(root, config.directories.output),
    defaultSrc: root,
  });
  const filter = m[0].createFilter();
  return (rel: string) => filter(join(root, rel), asFile) as boolean;
}

function findFiles(dir: string, test: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return findFiles(p, test);
    return test(e.name) ? [relative(root, p)] : [];
  });
}

// The native files the packaged app loads at run time, as installed here (linux/x64).
const native = {
  betterSqlite: 'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
  hnswlib: 'node_modules/hnswlib-node/build/Release/addon.node',
  onnxLinuxX64: findFiles(join(root, 'node_modules/onnxruntime-node/bin'), (n) => n === 'onnxruntime_binding.node').find((f) => f.includes('/linux/x64/'))!,
  onnxLibLinuxX64: findFiles(join(root, 'node_modules/onnxruntime-node/bin'), (n) => /^libonnxruntime\.so/.test(n)).find((f) => f.includes('/linux/x64/')),
  sharp: findFiles(join(root, 'node_modules/@img'), (n) => /^sharp-.*\.node$/.test(n))[0]!,
  libvips: findFiles(join(root, 'node_modules/@img'), (n) => /^libvips-cpp\.so/.test(n))[0],
};
const onnxBindings = findFiles(join(root, 'node_modules/onnxruntime-node/bin'), (n) => n === 'onnxruntime_binding.node');

describe('electron-builder.yml', () => {
  it('names the app and targets Linux (AppImage, deb), Windows (NSIS) and macOS (dmg)', () => {
    expect(config.appId).toMatch(/^[a-z0-9.-]+$/);
    expect(config.productName).toBe('LeanLens');
    const targets = (p: Platform) => (config[p].target as (string | { target: string })[]).map((t) => (typeof t === 'string' ? t : t.target));
    expect(targets('linux').sort()).toEqual(['AppImage', 'deb']);
    expect(targets('win')).toEqual(['nsis']);
    expect(targets('mac')).toEqual(['dmg']);
  });

  it('rebuilds native modules for Electron and writes installers outside dist/ (which holds the app)', () => {
    expect(config.npmRebuild).toBe(true);
    expect(config.directories.output).not.toBe('dist');
    expect(config.asar).not.toBe(false);
  });

  it('runs the build script that produces package.json "main"', () => {
    expect(pkg.main).toBe('dist/electron/main.js');
    expect(pkg.scripts.dist).toMatch(/build:main.*electron-builder$/);
    expect(pkg.scripts.start).toMatch(/build:main.*electron \.$/);
  });
});

describe('the native files exist here (precondition of the pattern checks)', () => {
  it.each(Object.entries(native))('%s', (_name, file) => {
    expect(file, 'not found in node_modules').toBeTruthy();
    expect(existsSync(join(root, file!)), file).toBe(true);
  });
  it('onnxruntime-node carries binaries for several platforms (so filtering matters)', () => {
    expect(onnxBindings.some((f) => f.includes('/win32/'))).toBe(true);
    expect(onnxBindings.some((f) => f.includes('/darwin/'))).toBe(true);
  });
});

describe('asarUnpack', () => {
  const unpacked = unpackFilter('linux', 'x64');
  it.each(Object.entries(native))('unpacks %s', (_name, file) => {
    expect(unpacked(file!), file).toBe(true);
  });
  it('unpacks the models (ONNX Runtime opens them by path) but not plain JavaScript', () => {
    expect(unpacked('models/bpe_simple_vocab_16e6.txt.gz')).toBe(true);
    expect(unpacked('node_modules/zod/package.json')).toBe(false);
    expect(unpacked('dist/electron/main.js')).toBe(false);
  });
});

describe('per-platform onnxruntime-node filtering', () => {
  const cases: [Platform, string, string][] = [
    ['linux', 'x64', '/linux/x64/'],
    ['linux', 'arm64', '/linux/arm64/'],
    ['win', 'x64', '/win32/x64/'],
    ['win', 'arm64', '/win32/arm64/'],
    ['mac', 'arm64', '/darwin/arm64/'],
  ];
  it.each(cases)('%s/%s keeps only its own binding', (platform, arch, own) => {
    const keep = nodeModulesFilter(platform, arch);
    const kept = onnxBindings.filter((f) => keep(f));
    expect(kept).toEqual(onnxBindings.filter((f) => f.includes(own)));
    expect(kept).toHaveLength(1);
  });
  it('leaves out tsx and esbuild (source-only tooling), keeps runtime dependencies', () => {
    const keep = nodeModulesFilter('linux', 'x64');
    expect(keep('node_modules/tsx/package.json')).toBe(false);
    expect(keep('node_modules/esbuild/lib/main.js')).toBe(false);
    expect(keep('node_modules/@esbuild/linux-x64/bin/esbuild')).toBe(false);
    expect(keep('node_modules/zod/package.json')).toBe(true);
    expect(keep('node_modules/better-sqlite3/lib/index.js')).toBe(true);
  });
  it('linux/x64 keeps the rest of the package and the other native modules', () => {
    const keep = nodeModulesFilter('linux', 'x64');
    expect(keep('node_modules/onnxruntime-node/dist/index.js')).toBe(true);
    expect(keep('node_modules/onnxruntime-node/package.json')).toBe(true);
    for (const f of Object.values(native)) if (f) expect(keep(f), f).toBe(true);
    if (native.onnxLibLinuxX64) expect(keep(native.onnxLibLinuxX64)).toBe(true);
    const other = findFiles(join(root, 'node_modules/onnxruntime-node/bin'), () => true).filter((f) => /\/(win32|darwin)\//.test(f));
    expect(other.length).toBeGreaterThan(0);
    expect(other.filter((f) => keep(f))).toEqual([]);
  });
});

describe('app files', () => {
  const keep = appFilesFilter('linux', 'x64');
  it('packs the compiled app, the renderer, the models and package.json', () => {
    for (const f of ['package.json', 'dist/electron/main.js', 'dist/preload/index.cjs', 'dist/renderer/index.html', 'dist/services/store/migrations/001_initial.sql', 'dist/services/encoder/encoder-process.js', 'dist/lab/transforms/tower-worker.js', 'models/bpe_simple_vocab_16e6.txt.gz', 'models/manifest.json', 'models/shapesworld/demo/photos/shapes_06737.jpg', 'models/shapesworld/demo/demo.json']) {
      expect(keep(f), f).toBe(true);
    }
  });
  it('leaves out sources, tests, generated and distillation models, source maps and installers', () => {
    for (const f of ['main/electron/main.ts', 'preload/index.ts', 'renderer/src/App.svelte', 'test/unit/x.test.ts', 'models/generated/manifest.json', 'models/generated/a/model.onnx', 'models/distill/run1/student.onnx', 'dist/electron/main.js.map', 'dist/services/workers/worker-shim.mjs', 'dist/services/workers/process-shim.mjs', 'release/LeanLens.AppImage', 'electron-builder.yml', 'tsconfig.json']) {
      expect(keep(f), f).toBe(false);
    }
  });
});

/** A package and, recursively, every package its package.json depends on, as installed here. */
function dependencyClosure(name: string, from = join(root, 'package.json'), seen = new Map<string, string>()): Map<string, string> {
  if (seen.has(name)) return seen;
  const pj = createRequire(from).resolve(`${name}/package.json`);
  seen.set(name, relative(root, join(pj, '..')));
  for (const dep of Object.keys(JSON.parse(readFileSync(pj, 'utf8')).dependencies ?? {})) dependencyClosure(dep, pj, seen);
  return seen;
}

describe('OCR in the packaged app (tesseract.js worker thread, WebAssembly engine, language data)', () => {
  const unpacked = unpackFilter('linux', 'x64');
  const keep = nodeModulesFilter('linux', 'x64');
  const closure = dependencyClosure('tesseract.js');
  const data = 'node_modules/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz';

  it('the worker script, the engines and the language data exist here (precondition)', () => {
    expect([...closure.keys()]).toEqual(expect.arrayContaining(['tesseract.js', 'tesseract.js-core', 'wasm-feature-detect', 'node-fetch']));
    for (const f of ['node_modules/tesseract.js/src/worker-script/node/index.js', 'node_modules/tesseract.js-core/tesseract-core-simd-lstm.wasm', data]) {
      expect(existsSync(join(root, f)), f).toBe(true);
    }
  });

  it.each([...closure.entries()])('unpacks and packs every file of %s (a worker thread requires it from app.asar.unpacked)', (_name, dir) => {
    const files = findFiles(join(root, dir), () => true).filter((f) => !f.slice(dir.length).includes('/node_modules/'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !unpacked(f))).toEqual([]);
    expect(files.filter((f) => !keep(f))).toEqual([]);
  });

  it('unpacks and packs the English language data', () => {
    expect(unpacked(data)).toBe(true);
    expect(keep(data)).toBe(true);
  });

  it('the engine points its worker and language data at app.asar.unpacked, where the files above go', async () => {
    const { unpacked: toUnpacked } = await import('../../main/services/text/engine.ts');
    const inAsar = join('/opt/LeanLens/resources/app.asar', 'node_modules/tesseract.js/src/worker-script/node/index.js');
    expect(toUnpacked(inAsar)).toBe(join('/opt/LeanLens/resources/app.asar.unpacked', 'node_modules/tesseract.js/src/worker-script/node/index.js'));
    expect(toUnpacked('C:\\LeanLens\\resources\\app.asar\\node_modules\\x')).toBe('C:\\LeanLens\\resources\\app.asar.unpacked\\node_modules\\x');
    expect(toUnpacked(join(root, data))).toBe(join(root, data));
    expect(toUnpacked('/a/app.asar.unpacked/b')).toBe('/a/app.asar.unpacked/b');
  });
});
