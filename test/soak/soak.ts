/**
 * The soak (issue 15 §2): hours of a library's life in minutes. The real `leanlens index --watch`
 * runs as a child process on generated photo folders while seeded random changes land on them
 * (world.ts), searches run all the time over the local socket as `leanlens search` sends them, the
 * app is killed with SIGKILL and restarted, and a folder is unplugged and plugged back. After each
 * phase, once the app says it is idle, every invariant of invariants.ts is checked exactly; the
 * summary table says how many checks ran and failed.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Folder, SearchResult, Status } from '../../main/core/contract.ts';
import { blobToVector, VectorIndex } from '../../main/services/ann/index.ts';
import { openEncoder, type Encoder } from '../../main/services/encoder/index.ts';
import { hashFile } from '../../main/services/library/index.ts';
import { preparePhoto } from '../../main/services/media/index.ts';
import { claimDataFolder, openStore } from '../../main/services/store/index.ts';
import { mulberry32 } from '../../main/core/onnx/random.ts';
import { resolveTestModel } from '../fixtures/vector-db.ts';
import { alive, AppProcess, sleep } from './app-process.ts';
import {
  checkLibrary,
  checkLiveIndex,
  checkMemory,
  checkReopenedIndex,
  checkSearches,
  checkVectors,
  INVARIANTS,
  memoryTrend,
  type Invariant,
  type LibrarySnapshot,
  type MemoryVerdict,
  type RssSample,
  type SearchTally,
  type Violation,
} from './invariants.ts';
import { World } from './world.ts';

export interface SoakOptions {
  minutes: number;
  seed?: number;
  /** Seconds of changes per phase; default 8 for runs of 3 minutes or less, else 40. */
  churnSeconds?: number;
  /** How long the app may show no progress before a phase is declared stuck. Default 60 s. */
  stuckSeconds?: number;
  /** RSS rise over the judged stretch that counts as unbounded growth. Default 100 MB. */
  maxRiseMb?: number;
  log?: (line: string) => void;
  /** Keep the temporary folders (for a look after a failure). */
  keep?: boolean;
}

type PhaseKind = 'churn' | 'kill -9 mid-churn' | 'drive unplugged' | 'kill -9 while indexing' | 'drive back' | 'drive back, clean stop';

export interface PhaseReport {
  n: number;
  kind: PhaseKind;
  seconds: number;
  /** Seconds from the last change until the app was idle and SQLite matched the files. */
  settleSeconds: number;
  ops: number;
  photos: number;
  failed: number;
  heldConfirmed: number;
  reopened: string[];
  violations: number;
}

export interface SoakResult {
  ok: boolean;
  seed: number;
  minutes: number;
  violations: Violation[];
  checks: Map<Invariant, number>;
  phases: PhaseReport[];
  searches: SearchTally;
  memory: MemoryVerdict;
  kills: number;
  cleanStops: number;
  encodersLeftBehind: number;
  slowConnects: number;
  ops: Map<string, number>;
  table: string;
}

const QUERIES = ['red', 'blue', 'green', 'a yellow photo', 'dark', 'bright white', 'orange -red', 'purple in:Phone', 'pink in:Camera', 'gray'];

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const seed = opts.seed ?? 1;
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const deadline = started + opts.minutes * 60_000;
  const churnMs = (opts.churnSeconds ?? (opts.minutes <= 3 ? 8 : 40)) * 1000;
  const model = resolveTestModel('color-oracle');
  if (!model) throw new Error('the bundled color-oracle model is missing (models/color-oracle)');

  const root = mkdtempSync(join(tmpdir(), 'leanlens-soak-'));
  const dataDir = join(root, 'data');
  const world = new World(join(root, 'photos'), seed);
  const app = new AppProcess(dataDir);
  const violations: Violation[] = [];
  const checks = new Map<Invariant, number>(INVARIANTS.map((i) => [i, 0]));
  const count = (...names: Invariant[]) => names.forEach((n) => checks.set(n, checks.get(n)! + 1));
  const phases: PhaseReport[] = [];
  const tally: SearchTally = { ok: 0, cutByKill: 0, failed: [] };
  const rss: RssSample[] = [];
  const unplugged = new Map<number, Set<string>>();
  const expectedVectors = new Map<string, Float32Array>();
  let kills = 0;
  let cleanStops = 0;
  let encodersLeftBehind = 0;
  let encoder: Encoder | null = null;
  const record = (found: Violation[], phase: string) => {
    for (const v of found) {
      violations.push(v);
      log(`  VIOLATION [${v.invariant}] in ${phase}: ${v.detail}`);
    }
    return found.length;
  };
  const seconds = () => (Date.now() - started) / 1000;

  // --- set-up: the live indexer, then folders as a user adds them (`leanlens folders add` asks it) --
  await world.create(10);
  await app.start();
  log(`soak: seed ${seed}, ${opts.minutes} min, data in ${root}; app pid ${app.pid}`);
  const folderIds = new Map<string, number>();
  for (const f of world.folders) folderIds.set(f.path, (await app.call<Folder>('folders.add', { path: f.path })).id);
  const driveId = folderIds.get(world.drive.path)!;

  const sampler = setInterval(() => {
    const mb = app.rssMb();
    if (mb !== null && app.pid) rss.push({ t: seconds(), pid: app.pid, mb });
  }, 1000);
  const searching = { stop: false };
  const searchLoop = runSearches(app, tally, searching, mulberry32(seed + 1));

  /** Kill -9 now, check the saved index as the next start will open it, start again. */
  const killCycle = async (phase: string): Promise<string> => {
    const encoders = await app.kill9();
    kills++;
    const outcome = await checkReopened(phase, ['loaded', 'repaired']);
    for (const pid of encoders) {
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
      if (alive(pid)) {
        encodersLeftBehind++;
        log(`  encoder ${pid} outlived its app by 10 s; ending it`);
        process.kill(pid, 'SIGKILL');
      }
    }
    await app.start();
    return outcome;
  };

  /** With the app down: claims the folder, reopens the index exactly as the app does, compares it with SQLite. */
  const checkReopened = async (phase: string, allowed: string[]): Promise<string> => {
    const own = claimDataFolder(dataDir, 'the soak check');
    const store = openStore(join(dataDir, 'library.db'));
    try {
      const index = await VectorIndex.open({ store, dir: join(dataDir, 'index'), modelId: model.id, dim: model.dim, exactBelow: 0, log: () => undefined });
      await index.whenPatched();
      const rows = store.db.prepare<[string], { photo_id: number; vector: Buffer }>('SELECT photo_id, vector FROM vectors WHERE model_id = ?').all(model.id);
      const agreement = new Map<number, number>();
      for (const r of rows) {
        const held = index.storedVector(r.photo_id);
        if (held) agreement.set(r.photo_id, cosine(held, blobToVector(r.vector, model.dim)));
      }
      const found = checkReopenedIndex({ ...index.openReport, labels: index.labels(), agreement, sqliteIds: rows.map((r) => r.photo_id) });
      if (!allowed.includes(index.openReport.outcome)) {
        found.push({ invariant: 'index matches SQLite (reopened)', detail: `reopened '${index.openReport.outcome}' (${index.openReport.reason}); expected ${allowed.join(' or ')}` });
      }
      count('index matches SQLite (reopened)');
      record(found, phase);
      // Not closed: closing saves, and the check must leave the data folder as the app left it.
      return `${index.openReport.outcome}${index.openReport.patched ? ` (${index.openReport.patched} patched)` : ''}`;
    } finally {
      store.close();
      own.release();
    }
  };

  /** Waits until the app is idle, its folders settled and SQLite matches the files; confirms held deletions as a user would. */
  const settle = async (): Promise<{ found: Violation[]; snapshot: LibrarySnapshot; status: Status; held: number; waited: number }> => {
    await world.writesFinished();
    const from = Date.now();
    let held = 0;
    let signature = '';
    let changedAt = Date.now();
    for (;;) {
      const status = await app.call<Status>('index.status');
      const folders = await app.call<Folder[]>('folders.list');
      for (const f of folders) {
        if (f.heldDeletions > 0 && !unplugged.has(f.id)) {
          log(`  ${f.path}: ${f.heldDeletions} deletions held (many at once); confirming them as the user would`);
          held += f.heldDeletions;
          await app.call('folders.confirmDeletions', { id: f.id });
        }
      }
      const snapshot = await takeSnapshot(dataDir, world, model.id, unplugged);
      const found = checkLibrary(snapshot);
      const idle = status.pending === 0 && status.progress.state !== 'running';
      const settled = folders.every((f) => (unplugged.has(f.id) ? f.state === 'offline' : f.state === 'watching'));
      if (idle && settled && found.length === 0) return { found, snapshot, status, held, waited: (Date.now() - from) / 1000 };
      const now = JSON.stringify([status.files, status.indexed, status.pending, status.failed, status.progress.done, folders.map((f) => f.state), found.length]);
      if (now !== signature) {
        signature = now;
        changedAt = Date.now();
      }
      if (Date.now() - changedAt > (opts.stuckSeconds ?? 60) * 1000) {
        const stuck = found.length
          ? found
          : [{ invariant: 'SQLite matches the files' as const, detail: `the app never settled: ${status.pending} pending, progress ${status.progress.state}, folders ${folders.map((f) => f.state).join(',')}` }];
        return { found: stuck, snapshot, status, held, waited: (Date.now() - from) / 1000 };
      }
      await sleep(500);
    }
  };

  /** The checks once settled: library, vectors against the photos' content, the live index. */
  const checkSettled = async (phase: string, s: Awaited<ReturnType<typeof settle>>): Promise<void> => {
    record(s.found, phase);
    count('SQLite matches the files', 'no photo twice', 'no photo lost', 'every failure has a reason');
    const reasons = s.status.errors.filter((e) => !e.reason.trim()).map((e) => ({ invariant: 'every failure has a reason' as const, detail: `status lists ${e.path} without a reason` }));
    record(reasons, phase);

    const db = new Database(join(dataDir, 'library.db'), { readonly: true, fileMustExist: true });
    try {
      const indexed = db
        .prepare<[string], { id: number; path: string; hash: string; vector: Buffer; held: number | null }>(
          `SELECT p.id, p.path, p.hash, v.vector, p.missing_since AS held FROM photos p JOIN vectors v ON v.photo_id = p.id AND v.model_id = ?
           WHERE p.status = 'indexed' ORDER BY p.id`,
        )
        .all(model.id);
      // Vectors: each distinct content encoded once by the soak itself, compared with what the app stored.
      encoder ??= await openEncoder(model, { threads: 1, providers: ['cpu'] });
      const pairs: { path: string; cosine: number }[] = [];
      const onDisk = new Map(s.snapshot.disk.map((f) => [f.path, f.hash]));
      for (const r of indexed) {
        // Only photos whose file is there with the content SQLite records (anything else is already reported).
        if (unplugged.has(folderOf(s.snapshot, r.id)) || onDisk.get(r.path) !== r.hash) continue;
        let want = expectedVectors.get(r.hash);
        if (!want) {
          const prepared = await preparePhoto(r.path, model.preprocess);
          [want] = await encoder.encodeImages(prepared.pixels, 1);
          expectedVectors.set(r.hash, want!);
        }
        pairs.push({ path: r.path, cosine: cosine(want!, blobToVector(r.vector, model.dim)) });
      }
      count('vectors match the photos');
      record(checkVectors(pairs), phase);

      // The live index: "more like this" over everything, from the first photo.
      const searchable = indexed.filter((r) => r.held === null);
      const probe = searchable[0];
      if (probe) {
        const pv = blobToVector(probe.vector, model.dim);
        const expected = new Map(searchable.filter((r) => r !== probe).map((r) => [r.id, dot(pv, blobToVector(r.vector, model.dim))]));
        const result = await app.call<SearchResult>('search.similar', { photoId: probe.id, limit: 100_000, minScore: -1 });
        count('index matches SQLite (live app)');
        record(checkLiveIndex(probe.id, result.hits.map((h) => ({ id: h.photo.id, score: h.score })), expected), phase);
      }
    } finally {
      db.close();
    }
  };

  // --- phases ----------------------------------------------------------------------------------
  // Kills in the first 60 % (every phase of a short run); then one long process lifetime, for the memory trend.
  const cycle: PhaseKind[] = ['churn', 'kill -9 mid-churn', 'drive unplugged', 'kill -9 while indexing', 'drive back, clean stop'];
  const calm: PhaseKind[] = ['churn', 'drive unplugged', 'drive back'];
  const estimate = churnMs + 25_000;
  const calmFrom = opts.minutes <= 3 ? Infinity : started + 0.6 * (deadline - started);
  let n = 0;
  let calmN = 0;
  try {
    for (;;) {
      const kind = (Date.now() < calmFrom ? cycle[n % cycle.length] : calm[calmN++ % calm.length])!;
      n++;
      const phase = `phase ${n} (${kind})`;
      const phaseStart = Date.now();
      const opsBefore = sum(world.counts);
      const violationsBefore = violations.length;
      const reopened: string[] = [];
      log(`${seconds().toFixed(0)} s: ${phase}`);

      if ((kind === 'drive back, clean stop' || kind === 'drive back') && world.drive.unplugged) {
        await world.plugIn(world.drive);
        unplugged.delete(driveId);
      }
      if (kind === 'drive unplugged' && !world.drive.unplugged) {
        const db = new Database(join(dataDir, 'library.db'), { readonly: true, fileMustExist: true });
        const paths = db.prepare<[number], string>('SELECT path FROM photos WHERE folder_id = ?').pluck().all(driveId);
        db.close();
        await world.unplug(world.drive);
        unplugged.set(driveId, new Set(paths));
      }
      let killing: Promise<void> = Promise.resolve();
      if (kind === 'kill -9 while indexing') {
        await world.burst(24);
        await waitForIndexing(app);
        killing = killCycle(phase).then((o) => void reopened.push(o));
      }
      const killAt = kind === 'kill -9 mid-churn' ? Date.now() + churnMs * (0.2 + 0.6 * world.rand()) : Infinity;
      const churnEnd = Date.now() + churnMs;
      let killed = false;
      while (Date.now() < churnEnd) {
        await world.step();
        if (!killed && Date.now() >= killAt) {
          // The changes go on while the app is down and restarting: the restart must catch up with them.
          killed = true;
          killing = killCycle(phase).then((o) => void reopened.push(o));
        }
        await sleep(150 + Math.floor(world.rand() * 250));
      }
      await killing;

      const s = await settle();
      await checkSettled(phase, s);
      // Every run goes through the whole cycle at least once, however slow the machine.
      const ending = deadline - Date.now() < estimate && !world.drive.unplugged && n >= cycle.length;
      if (kind === 'drive back, clean stop' || ending) {
        await app.stop();
        cleanStops++;
        reopened.push(await checkReopened(phase, ['loaded']));
        if (!ending) await app.start();
      }
      phases.push({
        n,
        kind,
        seconds: (Date.now() - phaseStart) / 1000,
        settleSeconds: s.waited,
        ops: sum(world.counts) - opsBefore,
        photos: s.status.files,
        failed: s.status.failed,
        heldConfirmed: s.held,
        reopened,
        violations: violations.length - violationsBefore,
      });
      log(`  settled in ${s.waited.toFixed(1)} s: ${s.status.files} photos, ${s.status.indexed} indexed, ${s.status.failed} failed; searches ${tally.ok} ok, ${tally.failed.length} failed`);
      if (ending) break;
    }
  } finally {
    searching.stop = true;
    await searchLoop;
    clearInterval(sampler);
    if (app.pid) await app.stop();
    await (encoder as Encoder | null)?.close();
  }

  count('no search failed');
  record(checkSearches(tally), 'searches');
  const memory = memoryTrend(rss);
  count('memory bounded');
  record(checkMemory(memory, opts.maxRiseMb ?? 100), 'memory');
  if (!opts.keep && violations.length === 0) rmSync(root, { recursive: true, force: true });

  const result: SoakResult = {
    ok: violations.length === 0,
    seed,
    minutes: opts.minutes,
    violations,
    checks,
    phases,
    searches: tally,
    memory,
    kills,
    cleanStops,
    encodersLeftBehind,
    slowConnects: app.slowConnects,
    ops: new Map(world.counts),
    table: '',
  };
  result.table = summaryTable(result, (Date.now() - started) / 1000);
  return result;
}

/** Searches all the time, as `leanlens search` sends them to the running app; each answer is checked. */
async function runSearches(app: AppProcess, tally: SearchTally, flag: { stop: boolean }, rand: () => number): Promise<void> {
  let conn: Awaited<ReturnType<AppProcess['open']>> | null = null;
  while (!flag.stop) {
    if (app.downSince !== null || app.pid === null) {
      conn?.close();
      conn = null;
      await sleep(200);
      continue;
    }
    try {
      conn ??= await app.open();
    } catch {
      // Not answering yet (starting, or too slow to say hello under load): no search was made.
      await sleep(200);
      continue;
    }
    const text = QUERIES[Math.floor(rand() * QUERIES.length)]!;
    const limit = 5 + Math.floor(rand() * 40);
    const sent = Date.now();
    try {
      const r = await conn.call<SearchResult>('search.text', { text, limit });
      const problem = malformed(r, limit);
      if (problem) tally.failed.push({ at: sent, message: `"${text}": ${problem}` });
      else tally.ok++;
    } catch (err) {
      conn.close();
      conn = null;
      if (app.downSince !== null && app.downSince >= sent - 100) tally.cutByKill++;
      else tally.failed.push({ at: sent, message: `"${text}": ${(err as Error).message}` });
    }
    await sleep(100 + Math.floor(rand() * 200));
  }
  conn?.close();
}

/** What is wrong with a search answer: a photo twice, more hits than asked, scores out of order. */
function malformed(r: SearchResult, limit: number): string | null {
  if (r.hits.length > limit) return `${r.hits.length} hits for a limit of ${limit}`;
  const ids = new Set(r.hits.map((h) => h.photo.id));
  if (ids.size !== r.hits.length) return 'a photo appears twice in the hits';
  for (let i = 1; i < r.hits.length; i++) if (r.hits[i]!.score > r.hits[i - 1]!.score + 1e-9) return 'hits are not in score order';
  return null;
}

/** Waits until the app is busy indexing the burst (so the kill lands mid-indexing). */
async function waitForIndexing(app: AppProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const s = await app.call<Status>('index.status').catch(() => null);
    if (s && s.progress.state === 'running' && s.progress.done > 0) return;
    if (s && s.pending === 0 && i > 20) return; // it was quicker than the poll
    await sleep(100);
  }
}

async function takeSnapshot(dataDir: string, world: World, modelId: string, unplugged: Map<number, Set<string>>): Promise<LibrarySnapshot> {
  // Files first, then SQLite: a row written after the walk can only be for a change already made.
  const paths = await world.onDisk();
  const disk = [];
  for (const path of paths) {
    try {
      disk.push({ path, hash: await hashFile(path), kind: world.kindOf(path) });
    } catch {
      // removed meanwhile (no change is made while settling; kept for safety)
    }
  }
  const db = new Database(join(dataDir, 'library.db'), { readonly: true, fileMustExist: true });
  try {
    const folders = db
      .prepare<[], { id: number; path: string; state: string; heldDeletions: number }>('SELECT id, path, state, held_deletions AS heldDeletions FROM folders')
      .all();
    const rows = db
      .prepare<[string], LibrarySnapshot['rows'][number]>(
        `SELECT p.id, p.folder_id AS folderId, p.path, p.hash, p.status, p.error, p.missing_since AS missingSince,
           (SELECT COUNT(*) FROM vectors v WHERE v.photo_id = p.id AND v.model_id = ?) AS vectors
         FROM photos p`,
      )
      .all(modelId);
    return { folders, disk, rows, unplugged };
  } finally {
    db.close();
  }
}

function folderOf(s: LibrarySnapshot, photoId: number): number {
  return s.rows.find((r) => r.id === photoId)?.folderId ?? -1;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function cosine(a: Float32Array, b: Float32Array): number {
  return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b) || 1);
}

function sum(m: Map<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

/** The summary: one line per invariant, then the phases and the figures. */
export function summaryTable(r: SoakResult, seconds: number): string {
  const byInvariant = new Map<Invariant, number>();
  for (const v of r.violations) byInvariant.set(v.invariant, (byInvariant.get(v.invariant) ?? 0) + 1);
  const lines = [
    `LeanLens soak: ${(seconds / 60).toFixed(1)} min, seed ${r.seed}, ${r.phases.length} phases, ${r.kills} kill -9, ${r.cleanStops} clean stops`,
    '',
    '| invariant | checks | violations | |',
    '|---|---|---|---|',
    ...INVARIANTS.map((i) => {
      const broken = byInvariant.get(i) ?? 0;
      const judged = i !== 'memory bounded' || r.memory.slope !== null;
      return `| ${i} | ${judged ? r.checks.get(i) : 0} | ${broken} | ${broken ? 'BROKEN' : judged ? 'HOLDS' : 'not judged: no process lived long enough'} |`;
    }),
    '',
    '| phase | kind | s | settle s | changes | photos | failed | held confirmed | index reopened | violations |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.phases.map(
      (p) =>
        `| ${p.n} | ${p.kind} | ${p.seconds.toFixed(0)} | ${p.settleSeconds.toFixed(1)} | ${p.ops} | ${p.photos} | ${p.failed} | ${p.heldConfirmed} | ${p.reopened.join(', ') || '—'} | ${p.violations} |`,
    ),
    '',
    `changes: ${[...r.ops].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `searches: ${r.searches.ok} answered and well-formed, ${r.searches.failed.length} failed, ${r.searches.cutByKill} cut by the soak's own kills`,
    `memory (app + encoder RSS): peak ${r.memory.peakMb.toFixed(0)} MB; slope ${r.memory.slope === null ? `not judged (the longest process lifetime gave ${r.memory.seconds.toFixed(0)} s after warm-up; 120 s needed)` : `${r.memory.slope.toFixed(1)} MB/min over ${r.memory.seconds.toFixed(0)} s of pid ${r.memory.pid}`}`,
    `encoder processes that outlived a killed app: ${r.encodersLeftBehind}; connections the running app was too slow to accept (retried): ${r.slowConnects}`,
    r.ok ? 'ALL INVARIANTS HOLD' : `${r.violations.length} VIOLATIONS`,
  ];
  return lines.join('\n');
}
