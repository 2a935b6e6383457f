/**
 * Reads a labelled set: a JSON list of `{ file, captions }` (coco-mini's format), files relative
 * to the JSON file. Bad entries are reported by position; the set must not be empty.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export interface LabelledSet {
  path: string;
  items: { file: string; captions: string[] }[];
}

export function readLabelledSet(path: string, limit?: number): LabelledSet {
  const abs = resolve(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the labelled set ${abs}: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new Error(`the labelled set ${abs} must be a JSON list of {file, captions}`);
  const base = dirname(abs);
  const items = raw.map((e, i) => {
    const item = e as { file?: unknown; captions?: unknown };
    if (typeof item?.file !== 'string' || !Array.isArray(item.captions) || !item.captions.every((c) => typeof c === 'string') || item.captions.length === 0) {
      throw new Error(`the labelled set ${abs}: entry ${i} must be {"file": "...", "captions": ["...", …]}`);
    }
    return { file: isAbsolute(item.file) ? item.file : resolve(base, item.file), captions: item.captions as string[] };
  });
  if (items.length === 0) throw new Error(`the labelled set ${abs} is empty`);
  return { path: abs, items: limit ? items.slice(0, limit) : items };
}
