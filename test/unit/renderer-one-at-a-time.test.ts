// Album counts are fetched one request at a time, however fast 'albums.changed' arrives.
import { describe, expect, it } from 'vitest';
import { oneAtATime } from '../../renderer/src/lib/one-at-a-time.ts';

describe('oneAtATime', () => {
  it('runs once more after the run in flight for any number of calls meanwhile, never two at once', async () => {
    let inFlight = 0;
    let most = 0;
    let runs = 0;
    const release: (() => void)[] = [];
    const run = oneAtATime(async () => {
      runs++;
      most = Math.max(most, ++inFlight);
      await new Promise<void>((r) => release.push(r));
      inFlight--;
    });
    const first = run();
    for (let i = 0; i < 10; i++) void run();
    expect(runs).toBe(1);
    release.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2); // the ten calls made during the first run: one more run
    release.shift()!();
    await first;
    expect(runs).toBe(2);
    expect(most).toBe(1);
    // Idle again: the next call runs at once.
    const later = run();
    expect(runs).toBe(3);
    release.shift()!();
    await later;
  });

  it('is ready again after a run that failed', async () => {
    let calls = 0;
    const run = oneAtATime(async () => {
      calls++;
      if (calls === 1) throw new Error('offline');
    });
    await expect(run()).rejects.toThrow('offline');
    await run();
    expect(calls).toBe(2);
  });
});
