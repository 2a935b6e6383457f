/**
 * The Photos timeline at 100,000 photos: the day counts (SQLite GROUP BY), a page at the top and
 * at the far end (OFFSET walks the index), a photo's position, and the renderer's layout of every
 * photo plus its window lookup (what runs when a page arrives and on every scroll).
 * Alone: `npx tsx test/bench/timeline.bench.ts` (TIMELINE_BENCH_N=… for another size).
 */
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { timelineDays, timelinePage, timelinePosition } from '../../main/services/library/index.ts';
import { layoutTimeline, visibleRange } from '../../renderer/src/lib/timeline-layout.ts';
import { addFolder, tempStore } from '../fixtures/vector-db.ts';
import { heading, median, ms, report } from './util.ts';

function timed(runs: number, fn: () => unknown): number {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

export async function runTimelineBench(n = Number(process.env.TIMELINE_BENCH_N ?? 100_000)): Promise<void> {
  heading(`Photos timeline — ${n.toLocaleString()} photos`);
  const { store, dir } = tempStore();
  try {
    const folderId = addFolder(store, '/photos');
    const insert = store.db.prepare(
      `INSERT INTO photos(folder_id, path, size, mtime_ms, width, height, taken_at, taken_at_source, status, updated_at)
       VALUES (?, ?, 1, 0, ?, ?, ?, 'exif', 'indexed', 0)`,
    );
    const newest = Date.UTC(2025, 5, 1);
    store.transaction(() => {
      // Six years, a few photos an hour: about 2,000 days, like a real phone library.
      for (let i = 0; i < n; i++) insert.run(folderId, `/photos/p${i}.jpg`, i % 3 ? 4000 : 3000, i % 3 ? 3000 : 4000, newest - Math.floor((i * 6 * 365 * 86_400_000) / n));
    });
    const days = timelineDays(store);
    const groupMs = timed(5, () => timelineDays(store));
    report(`day counts (GROUP BY, ${days.days.length.toLocaleString()} days)`, ms(groupMs), '< 150 ms', groupMs < 150);
    const firstMs = timed(20, () => timelinePage(store, 0, 500));
    report('first page (500 photos)', ms(firstMs), '< 15 ms', firstMs < 15);
    const lastMs = timed(20, () => timelinePage(store, n - 500, 500));
    report('last page (OFFSET at the far end)', ms(lastMs), '< 40 ms', lastMs < 40);
    const ids = timelinePage(store, Math.floor(n / 2), 1).map((p) => p.id);
    const posMs = timed(20, () => timelinePosition(store, ids[0]!));
    report("a photo's position (shared link)", ms(posMs), '< 40 ms', posMs < 40);

    const aspect = (i: number) => (i % 3 ? 4 / 3 : 3 / 4);
    let layout = layoutTimeline(days.days, aspect, 1400);
    const layoutMs = timed(10, () => (layout = layoutTimeline(days.days, aspect, 1400)));
    report('layout of every photo (per page arrival)', ms(layoutMs), '< 50 ms', layoutMs < 50);
    const windowMs = timed(1000, () => visibleRange(layout, layout.height / 2, layout.height / 2 + 1080));
    report('photos on screen lookup (per scroll frame)', ms(windowMs, 4), '< 0.1 ms', windowMs < 0.1);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runTimelineBench();
