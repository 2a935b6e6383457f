/**
 * What every call group shares: the services, the active model, the settings and the event
 * emitter. Built once in app.ts; call groups receive it and implement their part of the contract.
 */
import type { EventName, Events, ModelInfo, Settings } from '../core/contract.ts';
import type { ClipTokenizer } from '../core/tokenizer.ts';
import type { Store } from '../services/store/index.ts';
import type { ModelRegistry } from '../services/models/index.ts';
import type { Library } from '../services/library/index.ts';
import type { ActiveModel } from './active-model.ts';
import type { DatabaseCheck } from './database-check.ts';
import type { TextPass } from './text-pass.ts';
import type { DesktopShell } from './types.ts';

export interface AppContext {
  dataDir: string;
  /** The bundled models folder (manifest, tokenizer, demo). */
  modelsDir: string;
  /** Watching and background indexing are on (desktop app, `serve`). */
  live: boolean;
  store: Store;
  registry: ModelRegistry;
  tokenizer: ClipTokenizer;
  library: Library;
  model: ActiveModel;
  /** The OCR pass (text in photos). */
  text: TextPass;
  /** The database check owed after an unclean stop: writes to the library wait for `passed()`. */
  check: DatabaseCheck;
  settings(): Settings;
  emit<E extends EventName>(event: E, payload: Events[E]): void;
  /** Every model, with `active` set. */
  models(): ModelInfo[];
  shell?: DesktopShell;
}
