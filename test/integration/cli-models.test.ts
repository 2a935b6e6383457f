/**
 * `leanlens models` for the catalog, in process on a temporary data folder: the list shows each
 * catalog entry with size, licence and state; a download whose licence needs acceptance asks on
 * a terminal and is refused without one unless --accept-license is given. Every refusal happens
 * before any network request (the real catalog URLs are unreachable here, and must stay unused).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../main/cli/main.ts';

let root: string;
function io(answers?: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const cliIo: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    isTTY: false,
    ...(answers ? { ask: async (q: string) => (asked.push(q), answers.shift() ?? '') } : {}),
  };
  return { cliIo, out, err, asked };
}
const run = (args: string[], i = io()) => runCli(['--data', join(root, 'data'), ...args], i.cliIo);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-cli-models-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('leanlens models', () => {
  it('list shows each catalog entry with its size, licence and whether it is installed', async () => {
    const i = io();
    expect(await run(['models', 'list'], i)).toBe(0);
    const text = i.out.join('\n');
    expect(text).toMatch(/ID\s+ROLE\s+DIM\s+SIZE\s+LICENCE\s+STATE/);
    expect(text).toMatch(/clip-vit-b32\s+teacher\s+512\s+605\.8 MB\s+MIT\s+available \(leanlens models download\)/);
    expect(text).toMatch(/clip-vit-b32-int8\s+student\s+512\s+153\.6 MB\s+MIT\s+available/);
    expect(text).toMatch(/mobileclip-s2\s+student\s+512\s+210\.2 MB\s+Apple ML-MobileCLIP model weights licence \(accept to download\)\s+available/);

    const j = io();
    expect(await run(['models', 'list', '--json'], j)).toBe(0);
    const mc = (JSON.parse(j.out.join('')) as { id: string }[]).find((m) => m.id === 'mobileclip-s2');
    expect(mc).toMatchObject({ installed: false, requiresAcceptance: true, licenceUrl: 'https://github.com/apple/ml-mobileclip/blob/main/LICENSE_weights_data' });
  });

  it('refuses a licence that needs acceptance without a terminal, naming the licence and the flag', async () => {
    const i = io();
    expect(await run(['models', 'download', 'mobileclip-s2'], i)).toBe(2);
    expect(i.err.join('\n')).toMatch(
      /mobileclip-s2 is distributed under Apple ML-MobileCLIP model weights licence \(https:\/\/github\.com\/apple\/ml-mobileclip\/blob\/main\/LICENSE_weights_data\)\. Read it, then run: leanlens models download mobileclip-s2 --accept-license/,
    );
  });

  it('asks on a terminal and does not download when the answer is not yes', async () => {
    const i = io(['n']);
    expect(await run(['models', 'download', 'mobileclip-s2'], i)).toBe(2);
    expect(i.asked).toEqual([expect.stringMatching(/LICENSE_weights_data\)\.\nDo you accept its terms\? \[y\/N\] $/)]);
    expect(i.err.join('\n')).toMatch(/Not downloaded: the licence of mobileclip-s2 was not accepted/);
  });

  it('import checks --variant', async () => {
    const i = io();
    expect(await run(['models', 'import', root, '--variant', 'int3'], i)).toBe(2);
    expect(i.err.join('\n')).toMatch(/--variant must be quantized, fp16 or fp32, got "int3"/);
  });
});
