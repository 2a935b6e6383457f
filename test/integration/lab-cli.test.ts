/**
 * `leanlens lab …` as a user runs it (a real child process through bin/leanlens.mjs), and the
 * contract's validation of lab arguments.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppError, parseArgs, type LabCompareResult, type LabRun, type ModelInfo } from '../../main/core/contract.ts';
import { decodeModel, tensorBytes } from '../../main/core/onnx/proto.ts';
import { CSV_COLUMNS, parseCsv } from '../../main/lab/index.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';

const BIN = resolve('bin/leanlens.mjs');
let root: string;
let data: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--data', data, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-lab-cli-'));
  data = join(root, 'data');
  const photos = join(root, 'photos');
  mkdirSync(photos);
  await writeColourLibrary(photos, ['red', 'green', 'blue', 'yellow', 'white', 'black']);
  expect(cli('folders', 'add', photos).code).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('leanlens lab', () => {
  it('bench --json prints the stored run, and results --csv the same figures', () => {
    const r = cli('lab', 'bench', 'tiny-clip', '--iterations', '2', '--json');
    expect(r.code, r.err).toBe(0);
    const run = JSON.parse(r.out) as LabRun;
    expect(run.state).toBe('done');
    const [tiny] = run.results;
    expect(tiny).toMatchObject({ modelId: 'tiny-clip', error: null });
    expect(tiny!.fidelity).toMatchObject({ overlapAtK: 1, spearman: 1, photos: 6 });
    expect(tiny!.imagesPerSecBatch8!).toBeGreaterThan(0);

    const csv = cli('lab', 'results', String(run.id), '--csv');
    expect(csv.code, csv.err).toBe(0);
    const rows = parseCsv(csv.out);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const get = (name: string) => rows[1]![rows[0]!.indexOf(name)];
    expect(Number(get('disk_bytes'))).toBe(tiny!.diskBytes);
    expect(Number(get('img_per_s_b8'))).toBe(tiny!.imagesPerSecBatch8);
    expect(Number(get('text_p50_ms'))).toBe(tiny!.textLatencyMs!.p50);

    const text = cli('lab', 'results', String(run.id));
    expect(text.out).toContain('tiny-clip');
    expect(text.out).toContain(`${tiny!.imagesPerSecBatch8!.toFixed(1)}`);
    expect(text.out).toMatch(/Machine: .*cores.*provider cpu/);
  }, 60_000);

  it('compare marks the photos only one model returned', () => {
    const queries = join(root, 'queries.txt');
    writeFileSync(queries, 'a red photo\na blue photo\n');
    const r = cli('lab', 'compare', 'color-oracle', 'tiny-clip', '--queries', queries, '--limit', '2', '--json');
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as LabCompareResult[];
    expect(out.map((c) => c.text)).toEqual(['a red photo', 'a blue photo']);
    const red = out[0]!;
    expect(red.teacher.hits[0]!.photo.name).toBe('red.jpg');
    expect(red.student.hits).toHaveLength(2);
    const studentIds = new Set(red.student.hits.map((h) => h.photo.id));
    for (const h of red.teacher.hits) expect(h.onlyHere).toBe(!studentIds.has(h.photo.id));
    expect(red.overlap).toBe(red.teacher.hits.filter((h) => !h.onlyHere).length / 2);
  }, 60_000);

  it('init-student copies the chosen teacher text layers byte for byte and registers its lineage', () => {
    const r = cli('lab', 'init-student', 'tiny-clip', '--text-layers', '1,0,1', '--id', 'tiny-student', '--json');
    expect(r.code, r.err).toBe(0);
    const info = JSON.parse(r.out) as ModelInfo;
    expect(info).toMatchObject({ id: 'tiny-student', role: 'student', dim: 64, lineage: { parent: 'tiny-clip', transform: 'init-student' } });

    const teacher = decodeModel(readFileSync(resolve('models/tiny-clip/text_fp32.onnx')));
    const student = decodeModel(readFileSync(join(data, 'models', 'tiny-student', 'text_fp32.onnx')));
    const byName = (m: typeof teacher) => new Map((m.graph!.initializer ?? []).map((t) => [t.name!, t]));
    const t = byName(teacher);
    const s = byName(student);
    const layers = [1, 0, 1];
    let compared = 0;
    for (const [name, tensor] of s) {
      const m = /^transformer\.resblocks\.(\d+)\.(.+)$/.exec(name);
      const from = m ? `transformer.resblocks.${layers[Number(m[1])]}.${m[2]}` : name;
      const src = t.get(from);
      if (!src) continue;
      expect(Buffer.from(tensorBytes(tensor)).equals(Buffer.from(tensorBytes(src))), name).toBe(true);
      compared++;
    }
    expect([...s.keys()].filter((n) => n.startsWith('transformer.resblocks.2.')).length).toBeGreaterThan(0);
    expect(compared).toBeGreaterThan(30);
    // Block 0 of the student is not teacher block 0's copy (it is block 1's): the mapping is honoured.
    expect(Buffer.from(tensorBytes(s.get('transformer.resblocks.0.attn.q_proj.weight')!)).equals(Buffer.from(tensorBytes(t.get('transformer.resblocks.0.attn.q_proj.weight')!)))).toBe(false);

    // The student is registered intact (sizes and checksums match its files).
    const listed = JSON.parse(cli('models', 'list', '--json').out) as ModelInfo[];
    expect(listed.find((m) => m.id === 'tiny-student')?.problems).toEqual([]);
    const bad = cli('lab', 'init-student', 'tiny-clip', '--text-layers', '0,7');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/layer 7 does not exist/);
  }, 60_000);

  it('rejects a variant command without exactly one transform', () => {
    const none = cli('lab', 'variant', 'tiny-clip');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/choose exactly one/);
    const mixed = cli('lab', 'variant', 'tiny-clip', '--mixed');
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/--budget-mb/);
  });
});

describe('lab contract arguments', () => {
  const invalid = (name: Parameters<typeof parseArgs>[0], args: unknown) => {
    try {
      parseArgs(name, args);
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('invalid-argument');
      return (err as AppError).message;
    }
    throw new Error(`${name} accepted ${JSON.stringify(args)}`);
  };

  it('accepts good variant specs and refuses bad ones with invalid-argument', () => {
    expect(parseArgs('lab.variant', { model: 'tiny-clip', spec: { kind: 'int8', mode: 'dynamic' } }).spec.kind).toBe('int8');
    expect(parseArgs('lab.variant', { model: 'm', spec: { kind: 'lowrank', rank: 16 } }).spec).toEqual({ kind: 'lowrank', rank: 16 });
    expect(invalid('lab.variant', { model: 'm', spec: { kind: 'int3' } })).toMatch(/lab\.variant/);
    invalid('lab.variant', { model: 'm', spec: { kind: 'int8', mode: 'fast' } });
    invalid('lab.variant', { model: 'm', spec: { kind: 'lowrank', rank: 8, energy: 0.9 } });
    invalid('lab.variant', { model: 'm', spec: { kind: 'lowrank', rank: -1 } });
    invalid('lab.variant', { model: 'm', spec: { kind: 'mixed', budgetMb: 0 } });
    invalid('lab.variant', { model: '', spec: { kind: 'fp16' } });
    invalid('lab.variant', { model: 'm', spec: { kind: 'fp16', extra: 1 } });
  });

  it('validates lab.run, lab.compare, lab.cancel and lab.export', () => {
    expect(parseArgs('lab.run', { models: ['a'], teacher: 'b' })).toEqual({ models: ['a'], teacher: 'b' });
    invalid('lab.run', { models: [], teacher: 'b' });
    invalid('lab.run', { models: ['a'] });
    invalid('lab.run', { models: ['a'], teacher: 'b', k: 0 });
    invalid('lab.compare', { teacher: 'a', student: 'b', text: '' });
    invalid('lab.cancel', { runId: -1 });
    invalid('lab.export', { runId: 1, format: 'xml' });
    expect(parseArgs('lab.results', undefined)).toBeUndefined();
  });
});
