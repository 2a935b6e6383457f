// Architecture rule: each layer imports only from the layers below it (README "Architecture").
// One table (./layer-table.ts) says what every folder may import; the checker (./layer-check.ts)
// reads each file's import/export-from/import()/require() with the TypeScript parser and reports
// file:line and the rule broken.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayers, formatViolation, importsOf, isCode, layerOf, type SourceText } from './layer-check.ts';
import { LAYERS, SERVICE_ENTRIES } from './layer-table.ts';

const root = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return isCode(e.name) ? [p] : [];
  });
}

function realTree(): SourceText[] {
  return ['main', 'preload', 'renderer'].flatMap((d) =>
    sourceFiles(join(root, d)).map((f) => ({ path: relative(root, f).split(sep).join('/'), text: readFileSync(f, 'utf8') })),
  );
}

describe('the import reader', () => {
  it('finds every form of import, with its line and whether it is erased', () => {
    const text = [
      "import { app } from 'electron';",
      'import type { App } from "electron";',
      "import 'electron/renderer';",
      "const e = require('a');",
      "const f = await import('./b.ts');",
      "export { x } from './c.ts';",
      "export type { Y } from './d.ts';",
      "import { type P, type Q } from './e.ts';",
      "import { type R, S } from './f.ts';",
      "let t: import('./g.ts').T;",
      "// import { no } from 'a-comment';",
      'const s = \'import x from "a-string"\';',
      "import x from 'electron-builder';",
    ].join('\n');
    expect(importsOf({ path: 'x.ts', text }).map((r) => `${r.line} ${r.specifier}${r.typeOnly ? ' (type)' : ''}`)).toEqual([
      '1 electron',
      '2 electron (type)',
      '3 electron/renderer',
      '4 a',
      '5 ./b.ts',
      '6 ./c.ts',
      '7 ./d.ts (type)',
      '8 ./e.ts (type)',
      '9 ./f.ts',
      '10 ./g.ts (type)',
      '13 electron-builder',
    ]);
  });

  it('reads the scripts of a Svelte component and keeps their line numbers', () => {
    const text = [
      '<script lang="ts">',
      "  import Icon from './Icon.svelte';",
      '</script>',
      "<p>import x from 'markup-is-not-code'</p>",
      '<script module>',
      "  import { y } from '../lib/y.ts';",
      '</script>',
    ].join('\n');
    expect(importsOf({ path: 'renderer/src/A.svelte', text }).map((r) => `${r.line} ${r.specifier}`)).toEqual(['2 ./Icon.svelte', '6 ../lib/y.ts']);
  });
});

describe('the layer table', () => {
  it('reports each kind of violation with file:line and the rule (planted in memory)', () => {
    const planted: SourceText[] = [
      { path: 'main/core/ranking.ts', text: "import { x } from './metrics.ts';\nimport { readFileSync } from 'node:fs';\n" },
      { path: 'main/core/metrics.ts', text: "\n\nimport { openStore } from '../services/store/index.ts';\n" },
      { path: 'main/services/search/index.ts', text: "import { a } from '../store/index.ts';\nimport { b } from '../store/rows.ts';\n" },
      { path: 'main/services/store/index.ts', text: "import { BrowserWindow } from 'electron';\n" },
      {
        path: 'main/cli/main.ts',
        text: "import { createApp } from '../app/index.ts';\nconst { runBenchmarks } = await import('../../test/bench/run.ts');\nimport { Library } from '../services/library/index.ts';\n",
      },
      { path: 'main/electron/security.ts', text: "import { app } from 'electron';\n" },
      { path: 'main/electron/main.ts', text: "import { app } from 'electron';\nimport { openEncoder } from '../services/encoder/index.ts';\n" },
      {
        path: 'main/lab/bench/runner.ts',
        text: "import { Indexer } from '../../services/indexer/index.ts';\nimport { createApp } from '../../app/app.ts';\n",
      },
      { path: 'main/app/app.ts', text: "import { LabRunner } from '../lab/index.ts';\nimport { runLab } from '../lab/bench/runner.ts';\n" },
      {
        path: 'preload/index.ts',
        text: "import type { Api } from '../main/core/contract.ts';\nimport { callNames } from '../main/core/contract.ts';\n",
      },
      {
        path: 'renderer/src/App.svelte',
        text: "<script lang=\"ts\">\n  import type { App } from '../../main/app/app.ts';\n  import { callNames } from '../../main/core/contract.ts';\n</script>\n",
      },
      { path: 'main/stray.ts', text: '' },
      { path: 'test/unit/anything.test.ts', text: "import { openStore } from '../../main/services/store/rows.ts';\n" },
    ];
    expect(checkLayers(planted, LAYERS).map(formatViolation)).toEqual([
      "main/core/ranking.ts:2 imports 'node:fs': core may import only these packages: zod, protobufjs, node:path",
      "main/core/metrics.ts:3 imports '../services/store/index.ts': core may import only main/core/**",
      `main/services/search/index.ts:2 imports '../store/rows.ts': service search may import only main/core/**, main/services/search/**, ${SERVICE_ENTRIES}`,
      "main/services/store/index.ts:1 imports 'electron': service store must never import 'electron'",
      "main/cli/main.ts:2 imports '../../test/bench/run.ts': nothing under main/ imports test/",
      "main/cli/main.ts:3 imports '../services/library/index.ts': cli may import only main/app/index.ts, main/core/contract.ts, main/core/{paths,mime,units}.ts, main/cli/**, main/server/{index,local-socket,local-socket-client}.ts",
      "main/electron/security.ts:1 imports 'electron': electron shell (Electron-free module) must never import 'electron'",
      "main/electron/main.ts:2 imports '../services/encoder/index.ts': electron shell may import only main/app/index.ts, main/core/contract.ts, main/core/{paths,mime,units}.ts, main/electron/**, main/server/local-socket.ts",
      `main/lab/bench/runner.ts:2 imports '../../app/app.ts': feature lab may import only main/core/**, main/lab/**, ${SERVICE_ENTRIES}`,
      `main/app/app.ts:2 imports '../lab/bench/runner.ts': app may import only main/core/**, main/app/**, ${SERVICE_ENTRIES}, main/{lab}/index.ts`,
      "preload/index.ts:2 imports '../main/core/contract.ts': preload may import project files for their types only (import type)",
      "renderer/src/App.svelte:2 imports '../../main/app/app.ts': renderer may import only main/core/contract.ts, main/core/units.ts, renderer/src/**",
      'main/stray.ts: belongs to no layer: move it or add it to the table',
    ]);
  });

  it('catches a violation planted in the real tree', () => {
    const tree = realTree().map((f) =>
      f.path === 'main/core/ranking.ts' ? { ...f, text: `${f.text}\nimport { openStore } from '../services/store/index.ts';\n` } : f,
    );
    const line = tree.find((f) => f.path === 'main/core/ranking.ts')!.text.split('\n').length - 1;
    expect(checkLayers(tree, LAYERS).map(formatViolation)).toContain(
      `main/core/ranking.ts:${line} imports '../services/store/index.ts': core may import only main/core/**`,
    );
  });

  it('describes folders that exist: every row has files in the real tree', () => {
    const paths = realTree().map((f) => f.path);
    const empty = LAYERS.layers.filter((l) => !paths.some((p) => layerOf(p, LAYERS) === l));
    expect(empty.map((l) => l.name)).toEqual([]);
  });

  it('holds for the real tree', () => {
    expect(checkLayers(realTree(), LAYERS).map(formatViolation)).toEqual([]);
  });

  it("main/electron/main.ts really is where the shell imports 'electron'", () => {
    const main = realTree().find((f) => f.path === 'main/electron/main.ts')!;
    expect(importsOf(main).map((r) => r.specifier)).toContain('electron');
  });
});
