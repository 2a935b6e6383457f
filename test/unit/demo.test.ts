// The bundled demo library's description file: what `library.demo` reads before adding anything.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLED_MODELS_DIR } from '../../main/app/index.ts';
import { demoDir, readDemo } from '../../main/app/demo.ts';

describe('readDemo', () => {
  let dir = '';
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('the shipped demo names an installed model, queries, and a labelled set of its photos', () => {
    const demo = readDemo(BUNDLED_MODELS_DIR);
    expect(demo.queries).toContain('two red circles');
    expect(demo.photos).toBe(join(demoDir(BUNDLED_MODELS_DIR), 'photos'));
    expect(demo.model).toMatch(/teacher/);
  });

  it('a models folder without a demo is a not-found error naming where it looked', () => {
    dir = mkdtempSync(join(tmpdir(), 'leanlens-demo-'));
    expect(() => readDemo(dir)).toThrow(expect.objectContaining({ code: 'not-found', message: expect.stringContaining(join(dir, 'shapesworld', 'demo')) }));
  });

  it('a malformed demo.json is a clear error, not a crash', () => {
    dir = mkdtempSync(join(tmpdir(), 'leanlens-demo-'));
    mkdirSync(join(demoDir(dir), 'photos'), { recursive: true });
    writeFileSync(join(demoDir(dir), 'demo.json'), JSON.stringify({ name: 'x', model: '', queries: [] }));
    expect(() => readDemo(dir)).toThrow(/demo\.json is malformed/);
    writeFileSync(join(demoDir(dir), 'demo.json'), '{ not json');
    expect(() => readDemo(dir)).toThrow(/demo\.json is malformed/);
  });
});
