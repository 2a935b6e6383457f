/** Worker thread for one tower job (tower-job.ts): posts { ok, result } or { ok: false, message }. */
import { parentPort, workerData } from 'node:worker_threads';
import { transformTowerFile, type TowerJob } from './tower-job.ts';

try {
  parentPort!.postMessage({ ok: true, result: transformTowerFile(workerData.job as TowerJob) });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
