/**
 * models — which embedding models exist, whether their files are present and intact, and
 * getting them onto the disk (download, import of a user's own ONNX pair, lab variants).
 *
 * Owns the manifests (bundled `models/manifest.json`, optional extra manifests, and the user
 * manifest `<dataDir>/models/manifest.json`), the files under the user models folder, the sha256
 * cache, and loading the CLIP tokenizer vocabulary. Must never: run inference (that is the
 * encoder's job), write into the bundled models folder, or delete files it did not create.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DownloadProgress, ModelInfo } from '../../core/contract.ts';
import {
  CLIP_PREPROCESS,
  resolveSettings,
  type Manifest,
  type ManifestEntry,
  type ModelFile,
  type ResolvedModel,
} from '../../core/model-spec.ts';
import { ClipTokenizer } from '../../core/tokenizer.ts';
import { downloadFile } from './download.ts';
import { HashCache, sha256File } from './hashing.ts';
import { readManifest, writeManifest } from './manifest.ts';
import { inferIo, modelIdFrom, pickPair } from './pairing.ts';

export { parseManifest, readManifest } from './manifest.ts';
export { writeModelFile } from './model-file.ts';
export { pickPair, inferIo, modelIdFrom } from './pairing.ts';

export interface RegistryOptions {
  /** The repository's / app's `models/` folder, holding `manifest.json` (read-only at run time). */
  bundledDir: string;
  /** `<dataDir>/models`: downloads, imports and lab variants, with its own `manifest.json`. */
  userDir: string;
  /** More manifests to list (e.g. models/generated/manifest.json for benchmarks). */
  extraManifests?: string[];
}

type Tower = 'image' | 'text';

interface Source {
  kind: 'bundled' | 'extra' | 'user';
  manifestPath: string;
  /** Files are relative to this folder. */
  dir: string;
}

interface Listed {
  entry: ManifestEntry;
  source: Source;
}

export class ModelRegistry {
  private listed = new Map<string, Listed>();
  private hashes: HashCache;
  private downloads = new Map<string, Promise<ModelInfo>>();
  private readonly userManifestPath: string;
  private readonly sources: Source[];

  private constructor(private readonly opts: RegistryOptions) {
    this.userManifestPath = join(opts.userDir, 'manifest.json');
    this.sources = [
      { kind: 'bundled', manifestPath: join(opts.bundledDir, 'manifest.json'), dir: opts.bundledDir },
      ...(opts.extraManifests ?? []).map((p) => ({ kind: 'extra' as const, manifestPath: p, dir: dirname(p) })),
      { kind: 'user', manifestPath: this.userManifestPath, dir: opts.userDir },
    ];
    this.hashes = new HashCache(join(opts.userDir, '.sha256-cache.json'));
    this.reload();
  }

  /** Reads every manifest; throws an Error naming the file when one is malformed. */
  static open(opts: RegistryOptions): ModelRegistry {
    return new ModelRegistry({
      ...opts,
      bundledDir: resolvePath(opts.bundledDir),
      userDir: resolvePath(opts.userDir),
      extraManifests: opts.extraManifests?.map((p) => resolvePath(p)),
    });
  }

  /** Re-reads the manifests (after another process or a person edited them). */
  reload(): void {
    const listed = new Map<string, Listed>();
    for (const source of this.sources) {
      // The bundled and user manifests may be absent (fresh install); an extra one was asked for.
      const manifest = readManifest(source.manifestPath, source.kind !== 'extra');
      for (const entry of manifest.models) {
        // First listing wins: a user manifest cannot silently replace a bundled model.
        if (!listed.has(entry.id)) listed.set(entry.id, { entry, source });
      }
    }
    this.listed = listed;
  }

  /**
   * Every listed model (`active` is left false for the caller to set). `visibleOnly` drops
   * entries marked `hidden` (test/benchmark models) for a model picker; `entry(id).hidden` says which.
   */
  list(opts: { visibleOnly?: boolean } = {}): ModelInfo[] {
    return [...this.listed.values()]
      .filter((l) => !opts.visibleOnly || !l.entry.hidden)
      .map((l) => this.info(l.entry.id));
  }

  entry(id: string): ManifestEntry | undefined {
    return this.listed.get(id)?.entry;
  }

  /** One model's state; problems come from a quick check (presence, size, and a cached sha256 verdict). */
  info(id: string): ModelInfo {
    const { entry } = this.get(id);
    const problems = this.check(id, 'cached');
    const installed = (['image', 'text'] as const).every((t) => {
      const p = this.locate(id, t);
      return p !== null && sizeOf(p) === entry[t].bytes;
    });
    return {
      id,
      name: entry.name,
      role: entry.role,
      dim: entry.dim,
      installed,
      active: false,
      bytes: entry.image.bytes + entry.text.bytes,
      downloadable: !!entry.image.url && !!entry.text.url,
      lineage: entry.lineage ?? null,
      problems,
      description: entry.description ?? '',
    };
  }

  /** Absolute paths and full settings; throws an Error saying what to do when unusable. */
  resolve(id: string): ResolvedModel {
    const { entry } = this.get(id);
    const problems = this.check(id, 'compute');
    if (problems.length > 0) {
      const fix = entry.image.url && entry.text.url
        ? `Download it again (Models → Download, or \`leanlens models download ${id}\`).`
        : 'Import it again, or restore its files.';
      throw new Error(`Model "${id}" cannot be used: ${problems.join('; ')}. ${fix}`);
    }
    const { io, preprocess, tokens } = resolveSettings(entry);
    return {
      id,
      dim: entry.dim,
      imagePath: this.locate(id, 'image')!,
      textPath: this.locate(id, 'text')!,
      io,
      preprocess,
      tokens,
      entry,
    };
  }

  /** Problems with the model's files: missing, wrong size, and (unless hash: false) sha256 mismatch. */
  verify(id: string, opts: { hash?: boolean } = {}): string[] {
    return this.check(id, opts.hash === false ? 'none' : 'compute');
  }

  private check(id: string, hash: 'none' | 'cached' | 'compute'): string[] {
    const { entry } = this.get(id);
    const problems: string[] = [];
    for (const tower of ['image', 'text'] as const) {
      const file = entry[tower];
      const path = this.locate(id, tower);
      if (!path) {
        problems.push(`${tower} encoder file missing (${this.primaryPath(id, tower)})`);
        continue;
      }
      const size = sizeOf(path);
      if (size !== file.bytes) {
        problems.push(`${tower} encoder ${path} has ${size} bytes, the manifest says ${file.bytes}`);
        continue;
      }
      if (hash === 'none') continue;
      const actual = hash === 'cached' ? this.hashes.peek(path) : this.hashes.get(path);
      if (actual !== undefined && actual !== file.sha256.toLowerCase()) {
        problems.push(`${tower} encoder ${path} is corrupt (sha256 ${actual.slice(0, 12)}…, the manifest says ${file.sha256.slice(0, 12)}…)`);
      }
    }
    return problems;
  }

  /** Fetches whatever files are missing or damaged, resuming partial downloads. */
  download(id: string, opts: { onProgress?: (p: DownloadProgress) => void; signal?: AbortSignal } = {}): Promise<ModelInfo> {
    const running = this.downloads.get(id);
    if (running) return running;
    const job = this.runDownload(id, opts).finally(() => this.downloads.delete(id));
    this.downloads.set(id, job);
    return job;
  }

  private async runDownload(id: string, opts: { onProgress?: (p: DownloadProgress) => void; signal?: AbortSignal }): Promise<ModelInfo> {
    const { entry } = this.get(id);
    const problems = this.check(id, 'compute');
    const needed = (['image', 'text'] as const).filter((t) => problems.some((p) => p.startsWith(`${t} `)));
    const total = needed.reduce((s, t) => s + entry[t].bytes, 0);
    let before = 0;
    const report = (received: number, done: boolean, error: string | null) =>
      opts.onProgress?.({ modelId: id, received, total, done, error });
    try {
      for (const tower of needed) {
        const file: ModelFile = entry[tower];
        if (!file.url) {
          throw new Error(`Model "${id}" has no download address for its ${tower} encoder; import its files instead.`);
        }
        const dest = this.downloadPath(id, tower);
        await downloadFile({
          url: file.url,
          dest,
          bytes: file.bytes,
          sha256: file.sha256,
          signal: opts.signal,
          onProgress: (received) => report(before + received, false, null),
        });
        this.hashes.put(dest, file.sha256.toLowerCase());
        before += file.bytes;
      }
    } catch (err) {
      report(before, false, (err as Error).message);
      throw err;
    }
    report(total, true, null);
    return this.info(id);
  }

  /**
   * Imports a folder holding a user's own ONNX pair: picks the image and text files, reads
   * their io names and embedding width from the graphs, copies them into the user models
   * folder and lists them in the user manifest.
   */
  async importFolder(folder: string): Promise<ModelInfo> {
    const abs = resolvePath(folder);
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      throw new Error(`Cannot read the folder ${abs}: ${(err as Error).message}`);
    }
    const pair = pickPair(names, abs);
    const files = { image: join(abs, pair.image), text: join(abs, pair.text) };
    // ONNX Runtime loads here, on import, not with the registry: the CLI's `status` and `tokenize` open the registry.
    const { openGraph, outputDim, zeroImage, zeroText } = await import('./inspect.ts');
    const image = await openGraph(files.image);
    let text: Awaited<ReturnType<typeof openGraph>>;
    try {
      text = await openGraph(files.text);
    } catch (err) {
      await image.session.release();
      throw err;
    }
    let entry: ManifestEntry;
    try {
      const io = inferIo(image.summary, text.summary, files);
      const inShape = image.summary.inputs.find((v) => v.name === io.imageInput)?.shape;
      const h = inShape?.[2];
      const size = typeof h === 'number' && h > 0 && h === inShape?.[3] ? h : CLIP_PREPROCESS.size;
      const imageDim = await outputDim(image.session, image.summary, io.imageOutput, () => zeroImage(io.imageInput, size));
      const textInput = text.summary.inputs.find((v) => v.name === io.textInput)!;
      const textDim = await outputDim(text.session, text.summary, io.textOutput, () => zeroText(textInput, io.textMask));
      if (imageDim !== textDim) {
        throw new Error(`${pair.image} outputs ${imageDim}-d vectors but ${pair.text} outputs ${textDim}-d; they are not one model's pair.`);
      }
      const id = modelIdFrom(basename(abs), (c) => this.listed.has(c) || existsSync(join(this.opts.userDir, c)));
      entry = {
        id,
        name: basename(abs),
        role: 'other',
        description: `Imported from ${abs}`,
        dim: imageDim,
        image: { file: `${id}/${pair.image}`, bytes: 0, sha256: '' },
        text: { file: `${id}/${pair.text}`, bytes: 0, sha256: '' },
        io,
        ...(size !== CLIP_PREPROCESS.size ? { preprocess: { size } } : {}),
        lineage: null,
      };
    } finally {
      await image.session.release().catch(() => {});
      await text.session.release().catch(() => {});
    }
    const dir = join(this.opts.userDir, entry.id);
    mkdirSync(dir, { recursive: true });
    try {
      for (const tower of ['image', 'text'] as const) {
        const dest = join(this.opts.userDir, entry[tower].file);
        await copyFile(files[tower], `${dest}.tmp`);
        await rename(`${dest}.tmp`, dest);
        const sha256 = await sha256File(dest);
        entry[tower] = { file: entry[tower].file, bytes: statSync(dest).size, sha256 };
        this.hashes.put(dest, sha256);
      }
      this.addToUserManifest(entry);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return this.info(entry.id);
  }

  /**
   * Adds a lab variant (or any finished pair): its files are copied (or moved) into
   * `<userDir>/<id>/`, their size and sha256 recorded, and the entry written to the user manifest.
   */
  register(entry: ManifestEntry, files: { image: string; text: string }, opts: { move?: boolean } = {}): ModelInfo {
    if (this.listed.has(entry.id)) throw new Error(`A model with id "${entry.id}" already exists; choose another id.`);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(entry.id)) {
      throw new Error(`"${entry.id}" is not a valid model id: use letters, digits, ".", "_" and "-".`);
    }
    const dir = join(this.opts.userDir, entry.id);
    mkdirSync(dir, { recursive: true });
    const stored: ManifestEntry = { ...entry };
    try {
      for (const tower of ['image', 'text'] as const) {
        const src = resolvePath(files[tower]);
        if (!existsSync(src)) throw new Error(`Cannot register model "${entry.id}": its ${tower} file ${src} does not exist.`);
        const name = basename(src);
        const dest = join(dir, name);
        if (src !== dest) placeFile(src, dest, opts.move ?? false);
        const sha256 = this.hashes.get(dest);
        stored[tower] = { ...entry[tower], file: `${entry.id}/${name}`, bytes: statSync(dest).size, sha256 };
      }
      this.addToUserManifest(stored);
    } catch (err) {
      if (!opts.move) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return this.info(entry.id);
  }

  private addToUserManifest(entry: ManifestEntry): void {
    // Read the file again: another process (the CLI, the lab) may have added models since start.
    const current: Manifest = readManifest(this.userManifestPath, true);
    if (current.models.some((m) => m.id === entry.id)) {
      throw new Error(`The user manifest ${this.userManifestPath} already lists "${entry.id}".`);
    }
    writeManifest(this.userManifestPath, { version: 1, models: [...current.models, entry] });
    this.reload();
  }

  private get(id: string): Listed {
    const l = this.listed.get(id);
    if (!l) {
      const known = [...this.listed.keys()];
      throw new Error(
        `Unknown model "${id}". ${known.length ? `Known models: ${known.join(', ')}.` : 'No models are listed.'} Import or download one in Models.`,
      );
    }
    return l;
  }

  /** Where a file lives when installed with its manifest (bundled, extra or user folder). */
  private primaryPath(id: string, tower: Tower): string {
    const { entry, source } = this.get(id);
    return join(source.dir, entry[tower].file);
  }

  /** Where downloads go: the user folder, since the bundled folder is read-only when installed. */
  private downloadPath(id: string, tower: Tower): string {
    return join(this.opts.userDir, id, basename(this.get(id).entry[tower].file));
  }

  /** The file to use: a download in the user folder wins over a (possibly damaged) bundled copy. */
  private locate(id: string, tower: Tower): string | null {
    for (const p of [this.downloadPath(id, tower), this.primaryPath(id, tower)]) if (existsSync(p)) return p;
    return null;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/** Copy (or move) through a temp name and a rename, so a reader never sees half a file. */
function placeFile(src: string, dest: string, move: boolean): void {
  if (move) {
    try {
      renameSync(src, dest);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
  }
  copyFileSync(src, `${dest}.tmp`);
  renameSync(`${dest}.tmp`, dest);
  if (move) rmSync(src, { force: true });
}

/** The CLIP BPE tokenizer from `<bundledDir>/bpe_simple_vocab_16e6.txt.gz`. */
export function loadTokenizer(bundledDir: string): ClipTokenizer {
  const path = join(bundledDir, 'bpe_simple_vocab_16e6.txt.gz');
  let text: string;
  try {
    text = gunzipSync(readFileSync(path)).toString('utf8');
  } catch (err) {
    throw new Error(`Cannot read the CLIP vocabulary ${path}: ${(err as Error).message}. Reinstall LeanLens to restore it.`);
  }
  return new ClipTokenizer(text);
}
