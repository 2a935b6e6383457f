/**
 * The model registry against real files: downloads from a local HTTP server on 127.0.0.1
 * (full, interrupted + resumed, corrupt, 404, redirected), verification of tampered copies,
 * importing a copy of tiny-clip's two files, and malformed manifests.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelRegistry, loadTokenizer } from '../../main/services/models/index.ts';
import { openEncoder } from '../../main/services/encoder/index.ts';
import { CLIP_IO, type Manifest, type ManifestEntry } from '../../main/core/model-spec.ts';
import type { DownloadProgress } from '../../main/core/contract.ts';
import { serveFile, type ServeMode } from '../fixtures/download-server.ts';

const repo = resolve(import.meta.dirname, '../..');
const bundledDir = join(repo, 'models');
let tmp: string;
let tiny: ManifestEntry;
let imageBytes: Buffer;
let textBytes: Buffer;

/** What the test server does next (see test/fixtures/download-server.ts). */
let mode: ServeMode = 'ok';
let seen: { url: string; range: string | undefined }[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'leanlens-models-'));
  const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'probe') });
  const entry = registry.entry('tiny-clip');
  if (!entry) throw new Error('models/manifest.json has no tiny-clip: run `npx tsx scripts/generate-models.ts` first');
  tiny = entry;
  imageBytes = readFileSync(join(bundledDir, tiny.image.file));
  textBytes = readFileSync(join(bundledDir, tiny.text.file));
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', range: req.headers.range });
    if (req.url === '/redirect/image.onnx') {
      res.writeHead(302, { location: '/files/image.onnx' }).end();
      return;
    }
    if (req.url === '/files/image.onnx') return serveFile(req, res, imageBytes, mode);
    if (req.url === '/files/text.onnx') return serveFile(req, res, textBytes, mode);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
/** A fresh bundled folder whose manifest lists tiny-clip's files at the test server, not yet installed. */
function downloadableRegistry(imageUrl = `${base}/files/image.onnx`) {
  const root = join(tmp, `dl-${++n}`);
  const bundled = join(root, 'bundled');
  mkdirSync(bundled, { recursive: true });
  const entry: ManifestEntry = {
    ...tiny,
    id: 'remote-clip',
    hidden: false,
    image: { ...tiny.image, url: imageUrl },
    text: { ...tiny.text, url: `${base}/files/text.onnx` },
  };
  writeFileSync(join(bundled, 'manifest.json'), JSON.stringify({ version: 1, models: [entry] } satisfies Manifest));
  const userDir = join(root, 'user');
  return { registry: ModelRegistry.open({ bundledDir: bundled, userDir }), userDir, bundled };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeEach(() => {
  mode = 'ok';
  seen = [];
});

describe('download', () => {
  it('fetches both files, verifies them and puts them in place atomically', async () => {
    const { registry, userDir } = downloadableRegistry();
    const before = registry.list()[0];
    expect(before).toMatchObject({ id: 'remote-clip', installed: false, downloadable: true });
    expect(before.problems.join()).toMatch(/missing/);
    expect(() => registry.resolve('remote-clip')).toThrow(/cannot be used.*missing.*Download it again/);

    const progress: DownloadProgress[] = [];
    const info = await registry.download('remote-clip', { onProgress: (p) => progress.push(p) });
    expect(info).toMatchObject({ installed: true, problems: [] });
    const image = join(userDir, 'remote-clip', 'image_fp32.onnx');
    expect(sha(readFileSync(image))).toBe(tiny.image.sha256);
    expect(readdirSync(join(userDir, 'remote-clip')).sort()).toEqual(['image_fp32.onnx', 'text_fp32.onnx']); // no .part left
    expect(registry.verify('remote-clip')).toEqual([]);
    expect(registry.resolve('remote-clip').imagePath).toBe(image);
    const total = tiny.image.bytes + tiny.text.bytes;
    expect(progress.at(-1)).toEqual({ modelId: 'remote-clip', received: total, total, done: true, error: null });
    expect(progress.some((p) => p.received > 0 && p.received < total)).toBe(true);
    for (let i = 1; i < progress.length; i++) expect(progress[i].received).toBeGreaterThanOrEqual(progress[i - 1].received);
  });

  it('follows redirects', async () => {
    const { registry } = downloadableRegistry(`${base}/redirect/image.onnx`);
    await registry.download('remote-clip');
    expect(seen.map((s) => s.url)).toEqual(['/redirect/image.onnx', '/files/image.onnx', '/files/text.onnx']);
    expect(registry.verify('remote-clip')).toEqual([]);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const { registry, userDir } = downloadableRegistry();
    const part = join(userDir, 'remote-clip', 'image_fp32.onnx.part');
    mode = 'cut';
    const progress: DownloadProgress[] = [];
    await expect(registry.download('remote-clip', { onProgress: (p) => progress.push(p) })).rejects.toThrow(
      /image\.onnx.*(interrupted|failed) after \d+ of 1225930 bytes.*download again to resume/,
    );
    expect(progress.at(-1)?.error).toMatch(/resume/);
    const kept = readFileSync(part).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(tiny.image.bytes);
    expect(existsSync(join(userDir, 'remote-clip', 'image_fp32.onnx'))).toBe(false);

    mode = 'ok';
    seen = [];
    await registry.download('remote-clip');
    expect(seen[0]).toEqual({ url: '/files/image.onnx', range: `bytes=${kept}-` });
    expect(readFileSync(join(userDir, 'remote-clip', 'image_fp32.onnx')).equals(imageBytes)).toBe(true);
    expect(existsSync(part)).toBe(false);
    expect(registry.verify('remote-clip')).toEqual([]);
  });

  it('can be cancelled, keeping the partial file for a later resume', async () => {
    const { registry, userDir } = downloadableRegistry();
    mode = 'stall';
    const controller = new AbortController();
    const job = registry.download('remote-clip', {
      signal: controller.signal,
      onProgress: (p) => p.received >= 400_000 && controller.abort(),
    });
    await expect(job).rejects.toThrow(/cancelled after \d+ of 1225930 bytes; the partial file is kept/);
    // Chunks still in the write queue at the abort are dropped; what reached the disk is a prefix.
    const kept = readFileSync(join(userDir, 'remote-clip', 'image_fp32.onnx.part'));
    expect(kept.equals(imageBytes.subarray(0, kept.length))).toBe(true);
    mode = 'ok';
    seen = [];
    await registry.download('remote-clip');
    expect(seen[0].range).toBe(kept.length > 0 ? `bytes=${kept.length}-` : undefined);
    expect(readFileSync(join(userDir, 'remote-clip', 'image_fp32.onnx')).equals(imageBytes)).toBe(true);
  });

  it('rejects corrupted bytes and leaves no file in place', async () => {
    const { registry, userDir } = downloadableRegistry();
    mode = 'corrupt';
    await expect(registry.download('remote-clip')).rejects.toThrow(/corrupt \(sha256 [0-9a-f]+, expected [0-9a-f]+\); the file was deleted, try again/);
    const dir = join(userDir, 'remote-clip');
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(registry.info('remote-clip').installed).toBe(false);
  });

  it('a 404 gives a clear error', async () => {
    const { registry } = downloadableRegistry();
    mode = '404';
    await expect(registry.download('remote-clip')).rejects.toThrow(/Download of http:\/\/127\.0\.0\.1:\d+\/files\/image\.onnx failed: HTTP 404.*check the model's URL/);
  });

  it('refuses plain http to other hosts', async () => {
    const { registry } = downloadableRegistry('http://example.com/image.onnx');
    await expect(registry.download('remote-clip')).rejects.toThrow(/only https URLs are allowed/);
  });

  it('a model without URLs cannot be downloaded', async () => {
    const root = join(tmp, 'nourl');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'manifest.json'), JSON.stringify({ version: 1, models: [{ ...tiny, id: 'local-only' }] }));
    const registry = ModelRegistry.open({ bundledDir: root, userDir: join(root, 'user') });
    expect(registry.info('local-only').downloadable).toBe(false);
    await expect(registry.download('local-only')).rejects.toThrow(/no download address.*import its files instead/);
  });
});

describe('verify', () => {
  function copyOfTiny() {
    const root = join(tmp, `verify-${++n}`);
    mkdirSync(join(root, 'tiny-clip'), { recursive: true });
    copyFileSync(join(bundledDir, tiny.image.file), join(root, tiny.image.file));
    copyFileSync(join(bundledDir, tiny.text.file), join(root, tiny.text.file));
    writeFileSync(join(root, 'manifest.json'), JSON.stringify({ version: 1, models: [tiny] }));
    return { root, registry: ModelRegistry.open({ bundledDir: root, userDir: join(root, 'user') }) };
  }

  it('passes on intact files; hidden models are dropped only when asked', () => {
    const { registry } = copyOfTiny();
    expect(registry.verify('tiny-clip')).toEqual([]);
    expect(registry.list({ visibleOnly: true })).toEqual([]);
    expect(registry.list()).toEqual([
      expect.objectContaining({ id: 'tiny-clip', installed: true, problems: [], dim: 64, bytes: tiny.image.bytes + tiny.text.bytes }),
    ]);
  });

  it('reports a size mismatch', () => {
    const { root, registry } = copyOfTiny();
    writeFileSync(join(root, tiny.text.file), Buffer.concat([textBytes, Buffer.from([0])]));
    const problems = registry.verify('tiny-clip', { hash: false });
    expect(problems).toEqual([`text encoder ${join(root, tiny.text.file)} has ${tiny.text.bytes + 1} bytes, the manifest says ${tiny.text.bytes}`]);
    expect(registry.info('tiny-clip').installed).toBe(false);
    expect(() => registry.resolve('tiny-clip')).toThrow(/cannot be used: text encoder .* bytes.*Import it again/);
  });

  it('reports a sha256 mismatch on a same-size tampered copy, even after a cached good hash', () => {
    const { root, registry } = copyOfTiny();
    expect(registry.verify('tiny-clip')).toEqual([]); // caches the good hash
    const tampered = Buffer.from(imageBytes);
    tampered[1000] ^= 0x01;
    writeFileSync(join(root, tiny.image.file), tampered);
    expect(registry.verify('tiny-clip', { hash: false })).toEqual([]); // size alone cannot tell
    const problems = registry.verify('tiny-clip');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^image encoder .*image_fp32\.onnx is corrupt \(sha256/);
    // The quick check used by list() now knows too (cached verdict), without rehashing.
    expect(registry.info('tiny-clip').problems).toEqual(problems);
    // A new registry reuses the persisted cache.
    const again = ModelRegistry.open({ bundledDir: root, userDir: join(root, 'user') });
    expect(again.info('tiny-clip').problems).toEqual(problems);
  });

  it('unknown ids get a helpful error', () => {
    const { registry } = copyOfTiny();
    expect(() => registry.resolve('nope')).toThrow(/Unknown model "nope". Known models: tiny-clip/);
  });
});

describe('importFolder', () => {
  it('imports a copy of tiny-clip, reading io names and dim from the graphs', async () => {
    const folder = join(tmp, 'My CLIP export');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(bundledDir, tiny.image.file), join(folder, 'vision_model.onnx'));
    copyFileSync(join(bundledDir, tiny.text.file), join(folder, 'text_model.onnx'));
    writeFileSync(join(folder, 'README.txt'), 'not a model');
    const userDir = join(tmp, 'import-user');
    const registry = ModelRegistry.open({ bundledDir, userDir });

    const info = await registry.importFolder(folder);
    expect(info).toMatchObject({ id: 'my-clip-export', name: 'My CLIP export', dim: 64, installed: true, problems: [], role: 'other' });
    const resolved = registry.resolve(info.id);
    expect(resolved.imagePath).toBe(join(userDir, 'my-clip-export', 'vision_model.onnx'));
    expect(resolved.io).toEqual(CLIP_IO);
    expect(resolved.preprocess.size).toBe(224);

    const user = JSON.parse(readFileSync(join(userDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(user.models.map((m) => m.id)).toEqual(['my-clip-export']);
    expect(user.models[0].image).toEqual({ file: 'my-clip-export/vision_model.onnx', bytes: tiny.image.bytes, sha256: tiny.image.sha256 });
    expect(readdirSync(userDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // A second registry (next start) sees it; importing again picks a new id.
    const reopened = ModelRegistry.open({ bundledDir, userDir });
    expect(reopened.entry('my-clip-export')?.dim).toBe(64);
    expect((await reopened.importFolder(folder)).id).toBe('my-clip-export-2');

    // The imported copy encodes exactly like the original.
    const tok = loadTokenizer(bundledDir);
    const a = await openEncoder(resolved, { threads: 1, providers: ['cpu'] });
    const b = await openEncoder(registry.resolve('tiny-clip'), { threads: 1, providers: ['cpu'] });
    try {
      const [va] = await a.encodeTexts([tok.encode('a lighthouse')]);
      const [vb] = await b.encodeTexts([tok.encode('a lighthouse')]);
      expect(Array.from(va)).toEqual(Array.from(vb));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rejects a folder whose files cannot be told apart or are not ONNX', async () => {
    const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'import-bad') });
    const ambiguous = join(tmp, 'ambiguous');
    mkdirSync(ambiguous, { recursive: true });
    copyFileSync(join(bundledDir, tiny.image.file), join(ambiguous, 'a.onnx'));
    copyFileSync(join(bundledDir, tiny.text.file), join(ambiguous, 'b.onnx'));
    await expect(registry.importFolder(ambiguous)).rejects.toThrow(/Cannot tell the image encoder from the text encoder.*a\.onnx, b\.onnx/);

    const junk = join(tmp, 'junk');
    mkdirSync(junk, { recursive: true });
    writeFileSync(join(junk, 'image.onnx'), 'garbage');
    copyFileSync(join(bundledDir, tiny.text.file), join(junk, 'text.onnx'));
    await expect(registry.importFolder(junk)).rejects.toThrow(/image\.onnx is not a valid ONNX model/);

    const swapped = join(tmp, 'swapped');
    mkdirSync(swapped, { recursive: true });
    copyFileSync(join(bundledDir, tiny.text.file), join(swapped, 'image.onnx'));
    copyFileSync(join(bundledDir, tiny.image.file), join(swapped, 'text.onnx'));
    await expect(registry.importFolder(swapped)).rejects.toThrow(/does not look like a CLIP image encoder/);
    expect(registry.list().map((m) => m.id)).not.toContain('swapped');
    expect(existsSync(join(tmp, 'import-bad', 'manifest.json'))).toBe(false);
  });
});

describe('register (lab variants)', () => {
  it('copies the files into the user folder and lists the variant with its lineage', () => {
    const userDir = join(tmp, 'register-user');
    const registry = ModelRegistry.open({ bundledDir, userDir });
    const work = join(tmp, 'lab-out');
    mkdirSync(work, { recursive: true });
    copyFileSync(join(bundledDir, tiny.image.file), join(work, 'image_int8.onnx'));
    copyFileSync(join(bundledDir, tiny.text.file), join(work, 'text_int8.onnx'));
    const info = registry.register(
      {
        ...tiny,
        id: 'tiny-clip-int8',
        name: 'Tiny CLIP int8',
        role: 'student',
        hidden: false,
        image: { file: '', bytes: 0, sha256: '0'.repeat(64) },
        text: { file: '', bytes: 0, sha256: '0'.repeat(64) },
        lineage: { parent: 'tiny-clip', transform: 'quantize-int8', params: { perChannel: true } },
      },
      { image: join(work, 'image_int8.onnx'), text: join(work, 'text_int8.onnx') },
      { move: true },
    );
    expect(info).toMatchObject({ id: 'tiny-clip-int8', installed: true, problems: [], role: 'student', lineage: { parent: 'tiny-clip' } });
    expect(existsSync(join(work, 'image_int8.onnx'))).toBe(false); // moved
    expect(registry.verify('tiny-clip-int8')).toEqual([]);
    expect(registry.resolve('tiny-clip-int8').textPath).toBe(join(userDir, 'tiny-clip-int8', 'text_int8.onnx'));
    const user = JSON.parse(readFileSync(join(userDir, 'manifest.json'), 'utf8')) as Manifest;
    expect(user.models[0].text).toEqual({ file: 'tiny-clip-int8/text_int8.onnx', bytes: tiny.text.bytes, sha256: tiny.text.sha256 });
    expect(() => registry.register({ ...tiny }, { image: 'x', text: 'y' })).toThrow(/already exists/);
  });
});

describe('manifests', () => {
  it('malformed JSON names the file', () => {
    const userDir = join(tmp, 'bad-json');
    mkdirSync(userDir, { recursive: true });
    writeFileSync(join(userDir, 'manifest.json'), '{"version": 1, "models": [');
    expect(() => ModelRegistry.open({ bundledDir, userDir })).toThrow(
      new RegExp(`model manifest ${join(userDir, 'manifest.json').replace(/[/.]/g, '\\$&')} is not valid JSON`),
    );
  });

  it('a wrong field is reported with its path', () => {
    const userDir = join(tmp, 'bad-field');
    mkdirSync(userDir, { recursive: true });
    writeFileSync(join(userDir, 'manifest.json'), JSON.stringify({ version: 1, models: [{ ...tiny, dim: 'wide' }] }));
    expect(() => ModelRegistry.open({ bundledDir, userDir })).toThrow(/manifest\.json is malformed: models\.0\.dim/);
  });

  it('extra manifests are listed, files relative to their folder; a missing one is an error', () => {
    const extra = join(tmp, 'generated');
    mkdirSync(join(extra, 'tiny-clip'), { recursive: true });
    copyFileSync(join(bundledDir, tiny.image.file), join(extra, tiny.image.file));
    copyFileSync(join(bundledDir, tiny.text.file), join(extra, tiny.text.file));
    writeFileSync(join(extra, 'manifest.json'), JSON.stringify({ version: 1, models: [{ ...tiny, id: 'bench-clip' }] }));
    const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'extra-user'), extraManifests: [join(extra, 'manifest.json')] });
    expect(registry.resolve('bench-clip').imagePath).toBe(join(extra, tiny.image.file));
    expect(() => ModelRegistry.open({ bundledDir, userDir: join(tmp, 'extra-user'), extraManifests: [join(tmp, 'none.json')] })).toThrow(
      /Cannot read the model manifest .*none\.json/,
    );
  });

  it('loads the CLIP tokenizer from the bundled vocabulary', () => {
    const tok = loadTokenizer(bundledDir);
    expect(tok.encode('a cat').slice(0, 4)).toEqual([49406, 320, 2368, 49407]);
    expect(() => loadTokenizer(tmp)).toThrow(/Cannot read the CLIP vocabulary .*bpe_simple_vocab_16e6\.txt\.gz/);
  });
});
