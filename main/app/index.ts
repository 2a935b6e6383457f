/**
 * app — the composed application, the only thing the entry points (main/cli, main/server,
 * main/electron) import besides the contract. Owns how services are joined into the contract's
 * calls and which model is active. Must never: be imported by a service or by the renderer.
 */
import type { App, AppOptions } from './types.ts';

export { BUNDLED_MODELS_DIR } from './models-dir.ts';
export { FALLBACK_MODEL } from './active-model.ts';
// What the entry points need beyond the contract, so none of them reaches into a service.
export { EVERYDAY_QUERIES } from '../core/queries.ts';
export { duplicatesJson } from '../core/duplicates-export.ts';
export { loadTokenizer } from '../services/models/index.ts';
export type { App, AppOptions, DesktopShell, PhotoFile } from './types.ts';
// For a shell that starts the encoder its own way (Electron's utilityProcess).
export type { EncoderLauncher, EncoderProcess } from '../services/encoder/index.ts';

/**
 * Opens the app. The services load here, on first use, not when this module is imported: the
 * CLI's `--help` and `tokenize` import this entry and must start in a fraction of a second.
 */
export async function createApp(options: AppOptions): Promise<App> {
  const { createApp: create } = await import('./app.ts');
  return create(options);
}

export type { RepairResult } from './repair.ts';

/** `leanlens repair`: checks the database and restores the newest healthy backup when it is damaged. */
export async function repairLibrary(dataDir: string): Promise<import('./repair.ts').RepairResult> {
  const { repairLibrary: repair } = await import('./repair.ts');
  return repair(dataDir);
}

/**
 * Who holds the library in `dataDir` ("LeanLens (leanlens serve, pid 41230, started …)"), or null
 * when no live process does. The CLI asks before opening the library itself when the running app
 * did not answer: a live owner means it is busy, not gone.
 */
export async function libraryHolderDescription(dataDir: string): Promise<string | null> {
  const { describeOwner, libraryHolder } = await import('../services/store/index.ts');
  const holder = libraryHolder(dataDir);
  return holder ? describeOwner(holder.owner) : null;
}
