/**
 * Issue 13 §4: ONNX Runtime runs in its own process; a crash of that process (here a real
 * SIGKILL) must not take the app down: the encoder restarts with backoff, the photos in flight
 * are retried once, nothing is lost or indexed twice, and `info()` says what happened. Real
 * photos (sharp), real SQLite and hnswlib, the real color-oracle model in a real child process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { forkLauncher, openEncoder, type Encoder, type EncoderLauncher } from '../../main/services/encoder/index.ts';
import { Indexer } from '../../main/services/indexer/index.ts';
import { preparePhoto } from '../../main/services/media/index.ts';
import type { Store } from '../../main/services/store/index.ts';
import { writeSolidPhoto } from '../fixtures/photos.ts';
import { addFolder, addPhotoFile, resolveTestModel, tempStore } from '../fixtures/vector-db.ts';

const oracle = resolveTestModel('color-oracle');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const count = (store: Store, sql: string, ...params: unknown[]) => store.db.prepare(sql).pluck().get(...params) as number;
/** Running (a zombie waiting to be reaped by a container's init counts as gone). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
};
async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

async function library(n: number) {
  const { store, dir } = tempStore();
  const photosDir = join(dir, 'photos');
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(photosDir, `p${String(i).padStart(3, '0')}.jpg`);
    await writeSolidPhoto(p, [(i * 41) % 256, (i * 17) % 256, (i * 89) % 256], { width: 32, height: 24 });
    paths.push(p);
  }
  const folderId = addFolder(store, photosDir);
  const ids = new Map<string, number>();
  for (const p of paths) ids.set(p, addPhotoFile(store, folderId, p));
  const index = await VectorIndex.open({ store, dir: join(dir, 'index'), modelId: oracle!.id, dim: oracle!.dim, log: () => {} });
  cleanups.push(async () => {
    await index.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, dir, paths, ids, index };
}

async function encoder(): Promise<Encoder> {
  const enc = await openEncoder(oracle!, { threads: 1, providers: ['cpu'] });
  cleanups.push(() => enc.close());
  return enc;
}

/** Collects what would take the app's process down. */
function watchProcess(): { problems: unknown[] } {
  const problems: unknown[] = [];
  const onRejection = (r: unknown) => problems.push(r);
  const onException = (e: unknown) => problems.push(e);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  cleanups.push(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });
  return { problems };
}

describe.skipIf(!oracle)('encoder process crash', () => {
  it('SIGKILL of the encoder process while indexing 200 photos: the run finishes, every photo indexed once, none lost', async () => {
    const lib = await library(200);
    const enc = await encoder();
    const watch = watchProcess();
    const firstPid = enc.processId()!;
    let indexedSoFar = 0;
    let killed = false;
    let crashedBatches = 0;
    // The real encoder, with a real SIGKILL of its process right after a batch is sent once ~50
    // photos are in: that batch is in flight when the process dies.
    const killing: Pick<Encoder, 'encodeImages' | 'dim'> = {
      dim: enc.dim,
      encodeImages: (pixels, n) => {
        const call = enc.encodeImages(pixels, n);
        if (!killed && indexedSoFar >= 50) {
          killed = true;
          process.kill(enc.processId()!, 'SIGKILL');
          call.catch((e: Error) => {
            if (/encoder process crashed \(signal SIGKILL\)/.test(e.message)) crashedBatches++;
          });
        }
        return call;
      },
    };
    const logs: string[] = [];
    const indexer = new Indexer({
      store: lib.store, encoder: killing, index: lib.index, modelId: oracle!.id, preprocess: oracle!.preprocess,
      batchSize: 8, decodeConcurrency: 2, log: (m) => logs.push(m),
    });
    const events: number[] = [];
    const failed: string[] = [];
    indexer.on('indexed', (ids) => {
      events.push(...ids);
      indexedSoFar += ids.length;
    });
    indexer.on('failed', (f) => failed.push(`${f.path}: ${f.reason}`));
    indexer.start();
    await indexer.whenIdle();

    expect(killed).toBe(true);
    expect(crashedBatches).toBe(1); // the kill really landed on a batch in flight
    expect(logs.join('\n')).toMatch(/batch of 8 failed to encode \(encoder process crashed \(signal SIGKILL\).*retrying one by one/);
    expect(failed).toEqual([]);
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(200);
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE model_id = ?', oracle!.id)).toBe(200);
    expect(count(lib.store, 'SELECT COUNT(DISTINCT photo_id) FROM vectors WHERE model_id = ?', oracle!.id)).toBe(200);
    // Each photo was committed exactly once (no batch half-committed, then again one by one).
    expect(events).toHaveLength(200);
    expect(new Set(events).size).toBe(200);
    expect(lib.index.size).toBe(200);

    const info = enc.info();
    expect(info.restarts).toBe(1);
    expect(info.lastCrash?.reason).toBe('signal SIGKILL');
    expect(enc.processId()).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
    expect(watch.problems).toEqual([]);

    // The vectors written after the restart are the real ones: re-encoding gives the same.
    const last = lib.paths[199]!;
    const stored = lib.store.db.prepare('SELECT vector FROM vectors WHERE photo_id = ? AND model_id = ?').pluck().get(lib.ids.get(last), oracle!.id) as Buffer;
    const [again] = await enc.encodeImages((await preparePhoto(last, oracle!.preprocess)).pixels, 1);
    const storedVec = new Float32Array(stored.buffer, stored.byteOffset, stored.byteLength / 4);
    expect(Math.max(...Array.from(storedVec, (x, i) => Math.abs(x - again![i]!)))).toBeLessThan(1e-6);
  }, 60_000);

  it('a photo whose encode crashes the process every time is retried once, then failed with the reason; its neighbours are indexed', async () => {
    const lib = await library(12);
    const enc = await encoder();
    const watch = watchProcess();
    const poisonPath = lib.paths[5]!;
    const MARK = 1234.5;
    let poisonAttempts = 0;
    // Stands in for a photo that makes ONNX Runtime crash natively: whenever it is in the batch
    // sent, the encoder process is SIGKILLed while that request is in flight.
    const crashing: Pick<Encoder, 'encodeImages' | 'dim'> = {
      dim: enc.dim,
      encodeImages: (pixels, n) => {
        const per = pixels.length / n;
        let poisoned = false;
        for (let i = 0; i < n; i++) if (pixels[i * per] === MARK) poisoned = true;
        const call = enc.encodeImages(pixels, n);
        if (poisoned) {
          poisonAttempts++;
          // The retry may be asked for while the encoder still waits out its restart backoff: the
          // request goes out as soon as the new process exists, so kill that one (it needs far
          // longer to load a model than this takes to notice it).
          const kill = () => {
            const pid = enc.processId();
            if (pid === null) setTimeout(kill, 1);
            else process.kill(pid, 'SIGKILL');
          };
          kill();
        }
        return call;
      },
    };
    const indexer = new Indexer({
      store: lib.store, encoder: crashing, index: lib.index, modelId: oracle!.id, preprocess: oracle!.preprocess,
      batchSize: 4, decodeConcurrency: 2, log: () => {},
      prepare: async (path, spec) => {
        const photo = await preparePhoto(path, spec);
        if (path === poisonPath) photo.pixels[0] = MARK;
        return photo;
      },
    });
    const failed: { path: string; reason: string }[] = [];
    indexer.on('failed', (f) => failed.push(f));
    indexer.start();
    await indexer.whenIdle();

    expect(poisonAttempts).toBe(2); // in its batch, then once alone: retried once, no more
    expect(failed).toHaveLength(1);
    expect(failed[0]!.path).toBe(poisonPath);
    expect(failed[0]!.reason).toMatch(/could not be encoded: encoder process crashed \(signal SIGKILL\)/);
    const row = lib.store.db.prepare('SELECT status, error FROM photos WHERE path = ?').get(poisonPath) as { status: string; error: string };
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/encoder process crashed \(signal SIGKILL\)/);
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(11);
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE model_id = ?', oracle!.id)).toBe(11);
    expect(enc.info().restarts).toBe(2);
    expect(watch.problems).toEqual([]);
  }, 60_000);

  it('gives up after repeated crashes with a clear error, and the indexer leaves the photos pending', async () => {
    const lib = await library(6);
    const crashes: { reason: string; gaveUp: boolean; restarts: number }[] = [];
    // A process that dies as soon as it starts (a broken native library, say): the real fork, a real SIGKILL.
    const dying: EncoderLauncher = (launch) => {
      const proc = forkLauncher(launch);
      process.kill(proc.pid!, 'SIGKILL');
      return proc;
    };
    const enc = await openEncoder(oracle!, {
      threads: 1, providers: ['cpu'], launcher: dying,
      restart: { initialDelayMs: 10, maxCrashes: 3 },
      onCrash: (c) => crashes.push({ reason: c.reason, gaveUp: c.gaveUp, restarts: c.restarts }),
    });
    cleanups.push(() => enc.close());
    // The process dies at every start, so the encoder gives up on its own; the indexer starts after
    // that (if it started earlier, which crash a request happens to be in flight for is timing).
    const deadline = Date.now() + 30_000;
    while (crashes.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const logs: string[] = [];
    const indexer = new Indexer({
      store: lib.store, encoder: enc, index: lib.index, modelId: oracle!.id, preprocess: oracle!.preprocess,
      batchSize: 2, decodeConcurrency: 1, log: (m) => logs.push(m),
    });
    // Paused is not stopped: decodes may still be in flight when the test ends, and must finish
    // before the library's database closes (the app stops its indexer before closing too).
    cleanups.push(() => indexer.stop());
    indexer.start();
    await indexer.whenIdle();
    expect(crashes).toEqual([
      { reason: 'signal SIGKILL', gaveUp: false, restarts: 0 },
      { reason: 'signal SIGKILL', gaveUp: false, restarts: 1 },
      { reason: 'signal SIGKILL', gaveUp: true, restarts: 2 },
    ]);
    await expect(enc.encodeImages(new Float32Array(3 * 224 * 224), 1)).rejects.toThrow(
      /encoder process of model "color-oracle" crashed 3 times in a row \(last: signal SIGKILL\); it is not restarted for now/,
    );
    // Not "failed": the photos were never the problem, they wait (pending) for a working encoder.
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'failed'")).toBe(0);
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'pending'")).toBe(6);
    expect(indexer.progress().state).toBe('paused');
    expect(logs.join('\n')).toMatch(/the encoder is unavailable .*pausing/);
  }, 60_000);
});

describe.skipIf(!oracle)('no orphan encoder processes', () => {
  it('close() kills the encoder process and waits until it is gone', async () => {
    const enc = await encoder();
    await enc.load('image');
    const pid = enc.processId()!;
    expect(alive(pid)).toBe(true);
    await enc.close();
    expect(alive(pid)).toBe(false);
    expect(enc.processId()).toBeNull();
  });

  it('close() during the restart backoff starts no new process and rejects the waiting request', async () => {
    const enc = await openEncoder(oracle!, { threads: 1, providers: ['cpu'], restart: { initialDelayMs: 2000 } });
    await enc.load('image');
    const pid = enc.processId()!;
    process.kill(pid, 'SIGKILL');
    expect(await until(() => enc.info().restarts === 0 && enc.info().lastCrash !== null)).toBe(true);
    const waiting = enc.encodeImages(new Float32Array(3 * 224 * 224), 1);
    await enc.close();
    await expect(waiting).rejects.toThrow(/is closed/);
    await new Promise((r) => setTimeout(r, 2300));
    expect(enc.processId()).toBeNull();
    expect(enc.info().restarts).toBe(0);
  });

  it('an app process killed with SIGKILL while its encoder is busy takes the encoder process with it at once', async () => {
    // The encoder process must stop when its app dies, not work through what it was sent: here
    // ~20 s of queued text batches, so lingering would be seen.
    const tiny = resolveTestModel('tiny-clip');
    if (!tiny) return;
    const dir = mkdtempSync(join(tmpdir(), 'leanlens-orphan-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'busy.mts');
    writeFileSync(join(dir, 'model.json'), JSON.stringify(tiny));
    writeFileSync(
      script,
      `import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openEncoder } from ${JSON.stringify(join(process.cwd(), 'main/services/encoder/index.ts'))};
const enc = await openEncoder(JSON.parse(readFileSync(${JSON.stringify(join(dir, 'model.json'))}, 'utf8')), { threads: 1, providers: ['cpu'] });
await enc.load('text');
const rows = Array.from({ length: 64 }, (_, i) => [49406, 320 + i, 2368, 49407]);
for (let i = 0; i < 300; i++) enc.encodeTexts(rows).catch(() => {});
console.log('encoder ' + enc.processId());
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    const encoderPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        const m = /^encoder (\d+)$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}): ${out}`)));
    });
    cleanups.push(() => void (alive(encoderPid) && process.kill(encoderPid, 'SIGKILL'))); // even when the test fails
    await new Promise((r) => setTimeout(r, 500));
    expect(alive(encoderPid)).toBe(true);
    child.kill('SIGKILL');
    expect(await until(() => !alive(encoderPid), 4000)).toBe(true);
  }, 60_000);

  it('an app process killed with SIGKILL takes its encoder process with it', async () => {
    const lib = await library(40);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/indexer-child.ts', lib.store.path, join(lib.dir, 'index2'), oracle!.id], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const encoderPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        const m = /^encoder (\d+)$/m.exec(out);
        if (m && /^indexed /m.test(out)) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before indexing: ${out}`)));
    });
    cleanups.push(() => void (alive(encoderPid) && process.kill(encoderPid, 'SIGKILL'))); // even when the test fails
    expect(alive(encoderPid)).toBe(true);
    child.kill('SIGKILL');
    expect(await until(() => !alive(encoderPid))).toBe(true);
  }, 60_000);
});
