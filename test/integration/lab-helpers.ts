/** Shared set-up of the lab tests: a real app on a temp data folder with a colour library. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../main/app/index.ts';
import type { LabRun, LabRunArgs } from '../../main/core/contract.ts';
import { COLOURS, writeColourLibrary } from '../fixtures/photos.ts';

export interface LabFixture {
  root: string;
  photos: string;
  dataDir: string;
  app: App;
  labelled: string;
}

/** A data folder with one library folder of the 11 colour photos (not yet indexed). */
export async function labFixture(prefix: string): Promise<LabFixture> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const photos = join(root, 'photos');
  const dataDir = join(root, 'data');
  mkdirSync(photos);
  await writeColourLibrary(photos);
  const app = await createApp({ dataDir });
  await app['folders.add']({ path: photos });
  // A labelled set in coco-mini's format: each colour photo captioned with its colour.
  const labelled = join(root, 'labelled.json');
  writeFileSync(labelled, JSON.stringify(Object.keys(COLOURS).map((c) => ({ file: `photos/${c}.jpg`, captions: [`a ${c} photo`, `something ${c}`] }))));
  return { root, photos, dataDir, app, labelled };
}

export const COLOUR_QUERIES = Object.keys(COLOURS).map((c) => `a ${c} photo`);

/** Starts a run through the contract call and waits for its last progress event. */
export async function runAndWait(app: App, args: LabRunArgs): Promise<LabRun> {
  const finished = new Set<number>();
  let wake: (() => void) | null = null;
  const off = app.on('lab.progress', (p) => {
    if (p.runId !== null && ['done', 'failed', 'cancelled'].includes(p.stage)) {
      finished.add(p.runId);
      wake?.();
    }
  });
  try {
    const { runId } = await app['lab.run'](args);
    while (!finished.has(runId)) await new Promise<void>((r) => (wake = r));
    const [run] = await app['lab.results']({ runId });
    return run!;
  } finally {
    off();
  }
}
