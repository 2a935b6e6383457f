// The shipped trained pair and demo library through the real app: `library.demo` switches to the
// ShapesWorld teacher and adds the photos, search finds the showcase scenes, and the lab measures
// the distilled student against the teacher with recall on the demo's captions.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODELS_DIR, createApp } from '../../main/app/index.ts';
import type { App } from '../../main/app/index.ts';
import type { LabRun } from '../../main/core/contract.ts';
import { readDemo } from '../../main/app/demo.ts';

const demo = readDemo(BUNDLED_MODELS_DIR);
const labelled = JSON.parse(readFileSync(demo.labelled, 'utf8')) as { file: string; captions: string[] }[];
/** Photos whose captions mention `words` as a phrase (the generator's captions, not the model's). */
const captioned = (words: RegExp) => new Set(labelled.filter((e) => e.captions.some((c) => words.test(c))).map((e) => basename(e.file)));

describe('demo library with the shipped trained models', () => {
  let dir: string;
  let app: App;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leanlens-demo-'));
    app = await createApp({ dataDir: join(dir, 'data') });
  });
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('describes itself: trained teacher, its distilled student, labelled captions', async () => {
    const info = await app['library.demoInfo']({});
    expect(info).not.toBeNull();
    expect(info!.model).toBe(demo.model);
    const models = await app['models.list']({});
    const student = models.find((m) => m.id === info!.student);
    expect(student?.lineage).toMatchObject({ parent: demo.model, transform: 'distill' });
    expect(models.find((m) => m.id === demo.model)?.role).toBe('teacher');
  });

  it('adds the photos, switches to the trained teacher, and its showcase queries find their scenes', async () => {
    const first = await app['library.demo']({});
    expect(first.model).toBe(demo.model);
    const status = await app.sync();
    expect(status.model).toBe(demo.model);
    expect(status.indexed).toBe(labelled.length);
    expect(status.failed).toBe(0);
    // Adding it again is the same folder, not a second copy.
    expect((await app['library.demo']({})).folder.id).toBe(first.folder.id);
    expect(await app['folders.list']({})).toHaveLength(1);

    const top = async (text: string, n: number) => (await app['search.text']({ text, limit: n, relevance: 'all' })).hits.map((h) => basename(h.photo.path));
    const red = captioned(/\b(two|2) (\w+ )?red circles\b/);
    expect(red.size).toBeGreaterThanOrEqual(3);
    // The trained teacher (t2i R@1 ≈ 12 % on 1,000 test photos) puts a photo of two red circles
    // first and all three in its top 10 of 120; random weights would do neither.
    const hits = await top('two red circles', 10);
    expect(red.has(hits[0]!), `first hit for "two red circles": ${hits.join(', ')}`).toBe(true);
    expect([...red].every((n) => hits.includes(n)), `top 10 for "two red circles": ${hits.join(', ')}`).toBe(true);
    const stars = captioned(/\byellow stars?\b/);
    const starHits = await top('a yellow star', 3);
    expect(starHits.filter((n) => stars.has(n)).length, `top 3 for "a yellow star": ${starHits.join(', ')}`).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('the lab measures the distilled student against the teacher with recall on the demo captions', async () => {
    const info = (await app['library.demoInfo']({}))!;
    const done = new Promise<number>((resolve) => {
      app.on('lab.progress', (p) => {
        if (p.runId !== null && ['done', 'failed', 'cancelled'].includes(p.stage)) resolve(p.runId);
      });
    });
    await app['lab.run']({ models: [info.model, info.student!], teacher: info.model, labelled: info.labelled, iterations: 1 });
    const [run] = (await app['lab.results']({ runId: await done })) as LabRun[];
    const by = (id: string) => run!.results.find((r) => r.modelId === id)!;
    const teacher = by(info.model), student = by(info.student!);
    for (const r of [teacher, student]) {
      expect(r.error).toBeNull();
      expect(r.recall!.setSize).toBe(labelled.length);
    }
    const chance10 = 10 / labelled.length;
    // Trained, not random: both retrieve far above chance; the student keeps most of the teacher's recall.
    expect(teacher.recall!.t2i[10]).toBeGreaterThan(4 * chance10);
    expect(student.recall!.t2i[10]).toBeGreaterThan(3 * chance10);
    expect(student.recall!.t2i[10]).toBeGreaterThan(0.7 * teacher.recall!.t2i[10]);
    expect(student.diskBytes).toBeLessThan(0.45 * teacher.diskBytes);
  }, 180_000);

  it('removing the demo folder puts back the model that was active before it', async () => {
    const [folder] = await app['folders.list']({});
    await app['folders.remove']({ id: folder!.id });
    expect((await app['index.status']({})).model).toBe('color-oracle');
    expect(await app['folders.list']({})).toEqual([]);
  });
});
