// Architecture rule: main/electron/ is the only code that imports 'electron' (plus the preload,
// which runs in the renderer's isolated world). Services, core, CLI and server stay plain Node so
// they run and are tested without Electron.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const importsElectron = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)['"]electron(?:\/[a-z]+)?['"]/;

/** Source text without comments, so a comment that *mentions* importing electron is not an import. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"])\/\/.*$/gm, '$1');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return /\.(c|m)?[jt]s$/.test(e.name) ? [p] : [];
  });
}

describe("imports of 'electron'", () => {
  it('the pattern recognises every import form (so the rule below can fail)', () => {
    for (const line of [
      "import { app } from 'electron';",
      'import type { App } from "electron";',
      "import 'electron';",
      "const e = require('electron');",
      "const e = await import('electron');",
      "import { ipcRenderer } from 'electron/renderer';",
    ])
      expect(importsElectron.test(line), line).toBe(true);
    expect(importsElectron.test("import x from 'electron-builder';")).toBe(false);
    expect(importsElectron.test("import x from './electron/main.ts';")).toBe(false);
  });

  it('happen only under main/electron/', () => {
    const offenders = sourceFiles(join(root, 'main'))
      .filter((f) => !f.startsWith(join(root, 'main', 'electron') + sep))
      .filter((f) => importsElectron.test(code(f)))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it('main/electron/ really is where the shell lives', () => {
    const inside = sourceFiles(join(root, 'main', 'electron')).filter((f) => importsElectron.test(code(f)));
    expect(inside.map((f) => relative(root, f)).sort()).toContain(join('main', 'electron', 'main.ts'));
  });

  it('the pure security modules do not import electron (they are unit-tested without it)', () => {
    for (const f of ['security.ts', 'photo-url.ts', 'ipc-calls.ts', 'app-files.ts', 'bridge-spec.ts', 'window-state.ts']) {
      expect(importsElectron.test(code(join(root, 'main', 'electron', f))), f).toBe(false);
    }
  });
});
