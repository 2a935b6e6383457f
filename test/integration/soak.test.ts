/**
 * The 2-minute soak (issue 15 §2; `npm run soak` runs 20): the real `leanlens index --watch` in a
 * child process through seeded churn, two kill -9 (one mid-changes, one mid-indexing), a drive
 * unplugged and plugged back, a clean stop, with searches running all the time. Every invariant is
 * checked exactly after each phase (test/soak/invariants.ts; each is shown to fail in
 * test/unit/soak-invariants.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../soak/soak.ts';
import { resolveTestModel } from '../fixtures/vector-db.ts';

describe.skipIf(!resolveTestModel('color-oracle'))('soak (2 minutes)', () => {
  it('keeps every invariant through churn, kill -9, an unplugged drive and continuous searches', async () => {
    const lines: string[] = [];
    const r = await runSoak({ minutes: 2, seed: 1, log: (l) => lines.push(l) });
    console.log(r.table);
    expect(r.violations, `${lines.join('\n')}\n${r.table}`).toEqual([]);
    // The soak did what it says: every phase kind, two kills, a clean stop, searches answered.
    expect(r.phases.map((p) => p.kind)).toEqual(expect.arrayContaining(['kill -9 mid-churn', 'drive unplugged', 'kill -9 while indexing', 'drive back, clean stop']));
    expect(r.kills).toBeGreaterThanOrEqual(2); // more phases fit on a faster machine
    expect(r.cleanStops).toBeGreaterThanOrEqual(1);
    expect(r.searches.ok).toBeGreaterThan(50);
    expect(r.encodersLeftBehind).toBe(0);
    for (const inv of ['SQLite matches the files', 'vectors match the photos', 'index matches SQLite (live app)'] as const) {
      expect(r.checks.get(inv)).toBe(r.phases.length);
    }
    expect(r.checks.get('index matches SQLite (reopened)')).toBe(r.kills + r.cleanStops);
  }, 300_000);
});
