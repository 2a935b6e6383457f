// Worker entry for development and tests: a Worker cannot load TypeScript directly, so this
// plain module registers tsx's loader inside the worker thread, then imports the real worker.
// Packaged builds skip it and start the compiled worker.js directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.script);
