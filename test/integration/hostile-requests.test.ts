/**
 * Issue 15 §3, hostile requests to `leanlens serve` (a real child process on 127.0.0.1, a real
 * indexed library): malformed JSON, wrong types, huge bodies, deep nesting, path traversal in
 * every path-taking route and call, hundreds of WebSocket connections and thousands of messages,
 * slow clients. Each gets its status, an ordinary request keeps working in between, and the
 * server's memory does not grow. Bounded (a few thousand requests); prints what was tried. The
 * requests themselves are in test/fixtures/hostile-requests.ts, shared with `npm run bench`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { hostileRound, slowClients, startServe, Tally, webSocketFlood, type Serve } from '../fixtures/hostile-requests.ts';

const HEAP_CAP_MB = 96;
const tally = new Tally();
let serve: Serve;

beforeAll(async () => {
  serve = await startServe({ heapCapMb: HEAP_CAP_MB });
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  console.log(tally.table());
});

describe('hostile requests to serve', () => {
  it('answers each with its status, keeps serving others, and does not grow in memory', async () => {
    expect(await serve.healthy()).toBe(true);
    // Warm up, then measure: the first requests load code and caches.
    for (let i = 0; i < 50; i++) await serve.call('search.text', JSON.stringify({ text: 'red' }));
    const start = serve.rss();
    // Memory is compared from the end of the first round (which grows V8's heap to the size these
    // bodies need) to the end of the last: growth that continues round after round is a leak.
    let before = start;
    const ROUNDS = 8; // the heap cap is reached within these if anything is retained per request
    for (let round = 0; round < ROUNDS; round++) {
      if (round === 1) before = serve.rss();
      await hostileRound(serve, tally);
    }
    expect(await webSocketFlood(serve, tally, 300)).toBe(64);

    expect(await serve.healthy()).toBe(true);
    const grown = serve.rss() - before;
    console.log(
      `serve RSS: ${(start / 1e6).toFixed(0)} MB at the start, ${(before / 1e6).toFixed(0)} MB after the first round, ` +
        `then grew by ${(grown / 1e6).toFixed(1)} MB over ${ROUNDS - 1} more rounds and the WebSocket floods (JavaScript heap capped at ${HEAP_CAP_MB} MB)`,
    );
    expect(serve.child.exitCode).toBeNull();
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    for (const [kind, t] of tally.kinds) expect(t.answered, kind).toBe(t.tried);
  }, 300_000);

  it('closes slow clients (headers or body that never finish) and keeps serving others', async () => {
    expect(await slowClients(serve, tally, 20, 80_000)).toBe(true);
    expect(await serve.healthy()).toBe(true);
    for (const [kind, t] of tally.kinds) expect(t.answered, kind).toBe(t.tried);
  }, 120_000);
});
