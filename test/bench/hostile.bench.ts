/**
 * Hostile requests to `leanlens serve` (issue 15 §3: "report counts tried and survived", "does not
 * grow in memory"): the kinds of test/fixtures/hostile-requests.ts — malformed JSON, wrong types,
 * huge bodies, deep nesting, path traversal in every path-taking call, WebSocket connection and
 * message floods, slow clients — fired at a real `serve` child whose JavaScript heap is capped
 * (a leak would kill it). Prints the tally per kind, then tried / answered as expected, the
 * server's resident memory before and after, next to the targets.
 *
 * 20 rounds by default (about 2,000 requests, under a minute plus the slow clients' 10 s);
 * LEANLENS_BENCH_HOSTILE_ROUNDS=200 for a long run. Alone: `npx tsx test/bench/hostile.bench.ts`.
 */
import { pathToFileURL } from 'node:url';
import { hostileRound, slowClients, startServe, Tally, webSocketFlood } from '../fixtures/hostile-requests.ts';
import { heading, info, report } from './util.ts';

const HEAP_CAP_MB = 96;
/** Growth allowed from the end of the first round (V8 sized its heap for these bodies) to the end. */
const GROWTH_LIMIT_MB = 32;

export async function runHostileBench(rounds = Number(process.env.LEANLENS_BENCH_HOSTILE_ROUNDS ?? 20)): Promise<void> {
  heading('hostile requests to serve');
  const serve = await startServe({ heapCapMb: HEAP_CAP_MB });
  const tally = new Tally();
  try {
    for (let i = 0; i < 50; i++) await serve.call('search.text', JSON.stringify({ text: 'red' }));
    const start = serve.rss();
    let afterFirst = start;
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      await hostileRound(serve, tally);
      if (round === 0) afterFirst = serve.rss();
    }
    const httpSeconds = (performance.now() - started) / 1000;
    const httpRequests = tally.tried;
    // Thousands of WebSocket connections, a few hundred at a time (each flood closes its own).
    for (let i = 0; i < 5; i++) await webSocketFlood(serve, tally, 400);
    await slowClients(serve, tally, 20, 80_000);
    const end = serve.rss();
    const alive = await serve.healthy();
    console.log(tally.table());

    info('HTTP rounds', `${rounds} rounds, ${httpRequests} requests, ${(httpRequests / httpSeconds).toFixed(0)} a second`, 'one client, requests in sequence');
    report('requests answered as expected', `${tally.answered} of ${tally.tried}`, 'all', tally.answered === tally.tried,
      [...tally.kinds].filter(([, t]) => t.answered < t.tried).map(([k, t]) => `${k}: ${t.tried - t.answered} not`).join('; '));
    report('serve still answers at the end', alive ? 'yes' : 'no', 'yes', alive, 'the server died or stopped answering');
    const grownMb = (end - afterFirst) / 1e6;
    report(
      'serve RSS after the first round → end',
      `${(afterFirst / 1e6).toFixed(0)} → ${(end / 1e6).toFixed(0)} MB (${grownMb >= 0 ? '+' : ''}${grownMb.toFixed(1)} MB; ${(start / 1e6).toFixed(0)} MB before any)`,
      `≤ +${GROWTH_LIMIT_MB} MB, heap capped at ${HEAP_CAP_MB} MB`,
      grownMb <= GROWTH_LIMIT_MB,
      'memory grows round after round: something is kept per request',
    );
  } finally {
    await serve.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runHostileBench();
