/** Worker thread of `upgradePageSize` (page-size.ts): the VACUUM, off the caller's event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { rewritePageSize } from './page-size.ts';

const { path, pageSize } = workerData as { path: string; pageSize: number };
try {
  rewritePageSize(path, pageSize);
  parentPort!.postMessage({ error: null });
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message });
}
