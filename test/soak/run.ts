/**
 * `npm run soak [-- --minutes N] [--seed S] [--keep]`: the bounded soak (issue 15 §2), default 20
 * minutes. Prints each phase as it goes and the summary table at the end; exit code 1 when an
 * invariant broke. Heavy on a shared machine: run it under `nice -n 19`.
 */
import { parseArgs } from 'node:util';
import { runSoak } from './soak.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } },
});
const minutes = Number(values.minutes);
const seed = Number(values.seed);
if (!(minutes > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run soak -- [--minutes N] [--seed S] [--keep]');
  process.exit(2);
}
const result = await runSoak({ minutes, seed, keep: values.keep, log: (l) => console.log(l) });
console.log('\n' + result.table);
process.exit(result.ok ? 0 : 1);
