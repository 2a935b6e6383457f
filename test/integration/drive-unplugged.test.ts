/**
 * Issue 15 §3, drives: a photo folder that disappears while it is being indexed (its root
 * renamed away, as an unplugged drive looks to the app) is marked offline with every photo
 * kept and none failed; when it returns, only what is left or new is processed. Real App,
 * real SQLite, real sharp and ONNX Runtime (the bundled colour model).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../main/app/index.ts';
import { openStore } from '../../main/services/store/index.ts';
import { writeSolidPhoto } from '../fixtures/photos.ts';

const root = mkdtempSync(join(tmpdir(), 'leanlens-drive-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a drive unplugged while indexing', () => {
  it('marks the folder offline, keeps every photo (none failed), and processes only the rest when it returns', async () => {
    const drive = join(root, 'drive');
    const away = join(root, 'unplugged');
    mkdirSync(drive);
    const N = 240;
    for (let i = 0; i < N; i++) await writeSolidPhoto(join(drive, `p${String(i).padStart(3, '0')}.jpg`), [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], { width: 64, height: 48 });
    const data = join(root, 'data');

    const app = await createApp({ dataDir: data });
    try {
      await app['folders.add']({ path: drive });
      let unplugged = false;
      const done = app.sync((p) => {
        if (!unplugged && p.done >= 20) {
          unplugged = true;
          renameSync(drive, away);
        }
      });
      await done;
      expect(unplugged).toBe(true);
      const [folder] = await app['folders.list']({});
      expect(folder).toMatchObject({ state: 'offline', photoCount: N, failedCount: 0 });
      const status = await app['index.status']({});
      expect(status.failed).toBe(0);
      expect(status.files).toBe(N);
      expect(status.indexed).toBeGreaterThanOrEqual(20);
      expect(status.indexed).toBeLessThan(N);
    } finally {
      await app.close();
    }

    const store = openStore(join(data, 'library.db'));
    const indexedBefore = new Map(
      store.db.prepare<[], { id: number; updated_at: number }>("SELECT id, updated_at FROM photos WHERE status = 'indexed'").all().map((r) => [r.id, r.updated_at]),
    );
    store.close();

    // The drive returns, with one new photo.
    renameSync(away, drive);
    await writeSolidPhoto(join(drive, 'new.jpg'), [250, 250, 10], { width: 64, height: 48 });
    const again = await createApp({ dataDir: data });
    try {
      const status = await again.sync();
      expect(status).toMatchObject({ files: N + 1, indexed: N + 1, failed: 0, pending: 0 });
      expect((await again['folders.list']({}))[0]!.state).toBe('idle');
    } finally {
      await again.close();
    }
    const after = openStore(join(data, 'library.db'));
    const rows = after.db.prepare<[], { id: number; updated_at: number }>('SELECT id, updated_at FROM photos').all();
    after.close();
    // Photos indexed before the unplug were not touched again (not re-read, not re-encoded).
    for (const r of rows) if (indexedBefore.has(r.id)) expect(r.updated_at, `photo ${r.id}`).toBe(indexedBefore.get(r.id));
  }, 300_000);
});
