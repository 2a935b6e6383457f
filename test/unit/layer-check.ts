/**
 * The layer checker behind test/unit/layers.test.ts: a pure function from source texts and a
 * layer table to the imports that break the table. No file system here, so a planted violation
 * can be checked in memory exactly like the real tree.
 */
import { posix } from 'node:path';
import ts from 'typescript';

export interface SourceText {
  /** Path from the repository root, with forward slashes: `main/core/ranking.ts`. */
  path: string;
  text: string;
}

/**
 * One row of the table. Globs are relative to the repository root: `*` is part of one path
 * segment, `**` any number of segments, `{a,b}` alternatives.
 */
export interface Layer {
  name: string;
  /** Files of this layer; a file belongs to the first row that matches it. */
  files: string[];
  /** Project files it may import (list its own folder explicitly). */
  imports: string[];
  /** Packages it may import ('svelte' also allows 'svelte/…'; 'node:*' any Node built-in), or 'any'. */
  packages: 'any' | string[];
  /** Packages it must never import, even when `packages` is 'any'. */
  forbiddenPackages?: string[];
  /** Project imports must be `import type` (erased at build time). */
  typeOnly?: boolean;
}

export interface Table {
  /** Every code file under these globs must belong to a layer. */
  scope: string[];
  layers: Layer[];
  /** Checked before the rows, to name the broken rule plainly. */
  forbidden?: { from: string; to: string; rule: string }[];
}

export interface ImportRef {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  layer: string | null;
  rule: string;
}

const CODE = /\.(?:[cm]?[jt]s|svelte)$/;

export function isCode(path: string): boolean {
  return CODE.test(path) && !path.endsWith('.d.ts');
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('/**', i) && i + 3 === glob.length) {
      re += '(?:/.*)?';
      i += 2;
    } else if (c === '*') re += '[^/]*';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',') re += '|';
    else re += /[.+?^$()|[\]\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${re}$`);
}

const compiled = new Map<string, RegExp>();
function matches(path: string, globs: string[]): boolean {
  return globs.some((g) => {
    let re = compiled.get(g);
    if (!re) compiled.set(g, (re = globToRegExp(g)));
    return re.test(path);
  });
}

/** Svelte markup blanked out (line breaks kept), so positions in the scripts keep their line numbers. */
function scriptsOfSvelte(text: string): string {
  const out = text.replace(/[^\n]/g, ' ').split('');
  for (const m of text.matchAll(/(<script\b[^>]*>)([\s\S]*?)<\/script>/g)) {
    const start = m.index + m[1]!.length;
    out.splice(start, m[2]!.length, ...m[2]!.split(''));
  }
  return out.join('');
}

const parsed = new Map<string, ImportRef[]>();

/** Every module the file names: import/export-from (type or not), import(), require(), import('x').T. */
export function importsOf(file: SourceText): ImportRef[] {
  const key = `${file.path}\0${file.text}`;
  let refs = parsed.get(key);
  if (!refs) parsed.set(key, (refs = readImports(file)));
  return refs;
}

function readImports(file: SourceText): ImportRef[] {
  const svelte = file.path.endsWith('.svelte');
  const text = svelte ? scriptsOfSvelte(file.text) : file.text;
  const kind = /\.[cm]?js$/.test(file.path) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file.path, text, ts.ScriptTarget.Latest, true, kind);
  const found: ImportRef[] = [];
  const add = (lit: ts.Node | undefined, typeOnly: boolean) => {
    if (!lit || !ts.isStringLiteralLike(lit)) return;
    found.push({ specifier: lit.text, line: sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const allNamedAreTypes =
        !!clause && !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || allNamedAreTypes));
    } else if (ts.isExportDeclaration(node)) {
      const named = node.exportClause;
      const allNamedAreTypes = !!named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, node.isTypeOnly || allNamedAreTypes);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function packageAllowed(spec: string, layer: Layer): string | null {
  const is = (p: string) => (p.endsWith('*') ? spec.startsWith(p.slice(0, -1)) : spec === p || spec.startsWith(`${p}/`));
  if (layer.forbiddenPackages?.some(is)) return `${layer.name} must never import '${spec}'`;
  if (layer.packages === 'any' || layer.packages.some(is)) return null;
  const allowed = layer.packages.length ? layer.packages.join(', ') : 'none';
  return `${layer.name} may import only these packages: ${allowed}`;
}

export function layerOf(path: string, table: Table): Layer | null {
  return table.layers.find((l) => matches(path, l.files)) ?? null;
}

/** The imports that break the table, and the files in scope that belong to no layer. */
export function checkLayers(files: SourceText[], table: Table): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    if (!matches(file.path, table.scope) || !isCode(file.path)) continue;
    const layer = layerOf(file.path, table);
    if (!layer) {
      violations.push({ file: file.path, line: 1, specifier: '', layer: null, rule: 'belongs to no layer: move it or add it to the table' });
      continue;
    }
    for (const ref of importsOf(file)) {
      const spec = ref.specifier.replace(/\?.*$/, '');
      const v = (rule: string) => violations.push({ file: file.path, line: ref.line, specifier: ref.specifier, layer: layer.name, rule });
      if (!spec.startsWith('.') && !spec.startsWith('/')) {
        const broken = packageAllowed(spec, layer);
        if (broken) v(broken);
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(file.path), spec));
      const forbidden = table.forbidden?.find((f) => matches(file.path, [f.from]) && matches(target, [f.to]));
      if (forbidden) v(forbidden.rule);
      else if (!matches(target, layer.imports)) v(`${layer.name} may import only ${layer.imports.join(', ')}`);
      else if (layer.typeOnly && !ref.typeOnly) v(`${layer.name} may import project files for their types only (import type)`);
    }
  }
  return violations;
}

export function formatViolation(v: Violation): string {
  return v.specifier ? `${v.file}:${v.line} imports '${v.specifier}': ${v.rule}` : `${v.file}: ${v.rule}`;
}
