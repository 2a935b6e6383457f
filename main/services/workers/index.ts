/**
 * workers — how a service starts its own code in a worker thread (the lab's tower transforms, HEIC
 * decoding) or a child process (the encoder): the compiled `.js` beside the module in a packaged
 * build, else a shim that registers tsx first. Owns the two shims; must never run work itself.
 */

/**
 * How to start a worker thread whose code is `<name>.ts` beside `moduleUrl`: the compiled
 * `<name>.js` in a packaged build, else (development, tests, CLI under tsx) the shim that
 * registers tsx inside the worker and then imports the TypeScript file named in
 * `workerData.script` — a Worker cannot load TypeScript by itself.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function workerEntry(moduleUrl: string, name: string): { file: string; script: string | null } {
  const compiled = new URL(`./${name}.js`, moduleUrl);
  if (moduleUrl.endsWith('.js') && existsSync(fileURLToPath(compiled))) {
    return { file: fileURLToPath(compiled), script: null };
  }
  return {
    file: fileURLToPath(new URL('./worker-shim.mjs', import.meta.url)),
    script: new URL(`./${name}.ts`, moduleUrl).href,
  };
}

/**
 * How to start a child process whose code is `<name>.ts` beside `moduleUrl`: the compiled
 * `<name>.js` in a packaged build, else `process-shim.mjs` with the TypeScript file's URL as its
 * first argument (the shim registers tsx, then imports it).
 */
export function processEntry(moduleUrl: string, name: string): { script: string; args: string[] } {
  const compiled = new URL(`./${name}.js`, moduleUrl);
  if (moduleUrl.endsWith('.js') && existsSync(fileURLToPath(compiled))) {
    return { script: fileURLToPath(compiled), args: [] };
  }
  return {
    script: fileURLToPath(new URL('./process-shim.mjs', import.meta.url)),
    args: [new URL(`./${name}.ts`, moduleUrl).href],
  };
}
