/**
 * The demo library shipped in `models/shapesworld/demo/`: generated ShapesWorld photos (made by
 * `python3 -m models.distill export-demo`), their captions in coco-mini's labelled format, and
 * `demo.json` naming the model trained on that domain and the queries that show it off. A new
 * user can search and use the lab with real trained models before adding photos of their own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../core/contract.ts';

const demoFile = z.object({
  name: z.string(),
  model: z.string().min(1),
  queries: z.array(z.string().min(1)).min(1),
});

export interface DemoFiles {
  name: string;
  /** The folder of photos the app adds (read-only, like any user folder). */
  photos: string;
  /** `[{file, captions}]`, files relative to it: for `lab bench --labelled`. */
  labelled: string;
  model: string;
  queries: string[];
}

export function demoDir(modelsDir: string): string {
  return join(modelsDir, 'shapesworld', 'demo');
}

export function readDemo(modelsDir: string): DemoFiles {
  const dir = demoDir(modelsDir);
  const meta = join(dir, 'demo.json');
  if (!existsSync(meta) || !existsSync(join(dir, 'photos'))) {
    throw new AppError('not-found', `The demo library is not installed (expected ${dir}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(meta, 'utf8'));
  } catch (err) {
    throw new AppError('failed', `The demo library's demo.json is malformed: ${(err as Error).message}`);
  }
  const parsed = demoFile.safeParse(json);
  if (!parsed.success) throw new AppError('failed', `The demo library's demo.json is malformed: ${parsed.error.issues[0]?.message}`);
  return { ...parsed.data, photos: join(dir, 'photos'), labelled: join(dir, 'labelled.json') };
}
