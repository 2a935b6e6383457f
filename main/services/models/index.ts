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
  type ModelIo,
  type ResolvedModel,
} from '../../core/model-spec.ts';
import { ClipTokenizer } from '../../core/tokenizer.ts';
import { downloadFile } from './download.ts';
import { HashCache, sha256File } from './hashing.ts';
import { readManifest, writeJsonAtomic, writeManifest } from './manifest.ts';
import { readLayout, type Variant } from './layouts.ts';
import { inferIo, modelIdFrom, pickPair } from './pairing.ts';

export { manifestJsonSchema, parseManifest, readManifest } from './manifest.ts';
export { writeModelFile } from './model-file.ts';
export { pickPair, inferIo, modelIdFrom } from './pairing.ts';
export { readLayout, type Variant } from './layouts.ts';

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** The user has seen and accepted the model's licence (required when the entry says requiresAcceptance). */
  acceptLicense?: boolean;
}

/** Thrown by download() for a model whose licence was not accepted; names the licence and how to accept it. */
export class LicenceNotAcceptedError extends Error {
  constructor(
    readonly modelId: string,
    readonly licence: string,
    readonly licenceUrl: string | null,
  ) {
    super(
      `Model "${modelId}" is distributed under ${licence}${licenceUrl ? ` (${licenceUrl})` : ''}, which you must read and accept before it is downloaded. ` +
        `Accept it when downloading (the app asks; on the command line: \`leanlens models download ${modelId} --accept-license\`).`,
    );
    this.name = 'LicenceNotAcceptedError';
  }
}

export interface RegistryOptions {
  /** The repository's / app's `models/` folder, holding `manifest.json` (read-only at run time). */
  bundledDir: string;
  /** `<dataDir>/models`: downloads, imports and lab variants, with its own `manifest.json`. */
  userDir: string;
  /** More manifests to list (e.g. models/generated/manifest.json for benchmarks). */
  extraManifests?: string[];
}

type Tower = 'image' | 'text';

/** The io names a manifest entry may leave to the graph. */
const SIGNATURE_NAMES = ['imageInput', 'imageOutput', 'textInput', 'textOutput', 'textMask'] as const;

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
  private downloads = new Map<string, { job: Promise<ModelInfo>; controller: AbortController }>();
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
      licence: entry.licence ?? null,
      licenceUrl: entry.licenceUrl ?? null,
      requiresAcceptance: entry.requiresAcceptance === true,
      revision: entry.revision ?? null,
      testModel: entry.hidden === true,
    };
  }

  /** Absolute paths and full settings; throws an Error saying what to do when unusable. */
  resolve(id: string): ResolvedModel {
    const { entry } = this.get(id);
    const problems = this.check(id, 'compute');
    if (problems.length > 0) {
      const fix = entry.image.url && entry.text.url
        ? `Download it again (\`leanlens models download ${id}\`, or Download in the app).`
        : 'Import it again, or restore its files.';
      throw new Error(`Model "${id}" cannot be used: ${problems.join('; ')}. ${fix}`);
    }
    // Names the entry leaves out (not confirmed from the real files) come from the downloaded graphs.
    const learned = this.learnedIo(id);
    const { io, preprocess, tokens } = resolveSettings(learned ? { ...entry, io: { ...learned, ...entry.io } } : entry);
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

  /**
   * Fetches whatever files are missing or damaged, resuming partial downloads. A model whose
   * licence requires acceptance is refused unless `acceptLicense` says the user accepted it (the
   * UI and CLI show the licence first). A second call while one runs joins the running one.
   */
  download(id: string, opts: DownloadOptions = {}): Promise<ModelInfo> {
    const { entry } = this.get(id);
    if (entry.requiresAcceptance && opts.acceptLicense !== true) {
      return Promise.reject(new LicenceNotAcceptedError(id, entry.licence ?? 'its own licence', entry.licenceUrl ?? null));
    }
    const running = this.downloads.get(id);
    if (running) return running.job;
    // Our own controller, so cancelDownload() works for callers that passed no signal.
    const controller = new AbortController();
    const outer = opts.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    const job = this.runDownload(id, { onProgress: opts.onProgress, signal: controller.signal }).finally(() => {
      outer?.removeEventListener('abort', forward);
      this.downloads.delete(id);
    });
    this.downloads.set(id, { job, controller });
    return job;
  }

  /** Stops a running download; its partial file is kept for a later resume. False when none runs. */
  cancelDownload(id: string): boolean {
    const running = this.downloads.get(id);
    if (!running) return false;
    running.controller.abort(new Error('cancelled'));
    return true;
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
      const unstated = SIGNATURE_NAMES.some((k) => !(k in (entry.io ?? {})));
      if (needed.length > 0 || (unstated && !existsSync(this.signaturePath(id)))) await this.learnSignature(id);
    } catch (err) {
      report(before, false, (err as Error).message);
      throw err;
    }
    report(total, true, null);
    return this.info(id);
  }

  /** `<userDir>/<id>/signature.json`: io names read from a downloaded model's graphs. */
  private signaturePath(id: string): string {
    return join(this.opts.userDir, id, 'signature.json');
  }

  private learnedIo(id: string): Partial<ModelIo> | null {
    const path = this.signaturePath(id);
    // Only for files that are the downloaded ones (a bundled copy was never inspected).
    if (!existsSync(path) || this.locate(id, 'image') !== this.downloadPath(id, 'image')) return null;
    try {
      return (JSON.parse(readFileSync(path, 'utf8')) as { io: Partial<ModelIo> }).io;
    } catch {
      return null; // a damaged note: the next download writes it again
    }
  }

  /**
   * Opens the downloaded graphs once. Every input/output the entry states must be there with the
   * stated id type and batch — the sha256 proves the bytes, this proves the catalog describes them
   * — and the names the entry leaves out are read from the graphs and kept in signature.json.
   */
  private async learnSignature(id: string): Promise<void> {
    const { entry } = this.get(id);
    const paths = { image: this.locate(id, 'image')!, text: this.locate(id, 'text')! };
    const { openGraph } = await import('./inspect.ts');
    const image = await openGraph(paths.image);
    const text = await openGraph(paths.text).catch(async (err) => {
      await image.session.release();
      throw err;
    });
    try {
      const stated = entry.io ?? {};
      const resolved = resolveSettings(entry).io;
      const unstated = SIGNATURE_NAMES.filter((k) => !(k in stated));
      const learned: Partial<ModelIo> = {};
      if (unstated.length > 0) {
        const graphIo = inferIo(image.summary, text.summary, paths);
        for (const k of unstated) (learned as Record<string, unknown>)[k] = graphIo[k];
      }
      const io = { ...resolved, ...learned };
      const problems: string[] = [];
      const find = (g: typeof image, name: string | null, where: 'inputs' | 'outputs') => (name === null ? null : g.summary[where].find((v) => v.name === name));
      const has = (g: typeof image, name: string | null, where: 'inputs' | 'outputs', tower: string) => {
        if (name !== null && !find(g, name, where)) {
          problems.push(`the ${tower} graph has no ${where.slice(0, -1)} "${name}" (it has ${g.summary[where].map((v) => v.name).join(', ')})`);
        }
      };
      has(image, io.imageInput, 'inputs', 'image');
      has(image, io.imageOutput, 'outputs', 'image');
      has(text, io.textInput, 'inputs', 'text');
      has(text, io.textOutput, 'outputs', 'text');
      has(text, io.textMask, 'inputs', 'text');
      const ids = find(text, io.textInput, 'inputs');
      if ('textIds' in stated && ids && ids.type !== io.textIds) problems.push(`the text graph takes ${ids.type} token ids, the entry says ${io.textIds}`);
      for (const [tower, g, input, key] of [['image', image, io.imageInput, 'imageBatch'], ['text', text, io.textInput, 'textBatch']] as const) {
        const b = find(g, input, 'inputs')?.shape?.[0];
        const batch = typeof b === 'number' && b > 0 ? b : null;
        if (key in stated && find(g, input, 'inputs') && batch !== io[key]) problems.push(`the ${tower} graph's batch is ${batch ?? 'dynamic'}, the entry says ${io[key] ?? 'dynamic'}`);
      }
      if (problems.length > 0) {
        throw new Error(
          `Model "${id}" was downloaded and its sha256 matches, but its files do not have the signature its manifest entry states: ${problems.join('; ')}. ` +
            'The manifest entry is wrong; please report it.',
        );
      }
      if (unstated.length > 0) writeJsonAtomic(this.signaturePath(id), { io: learned });
    } finally {
      await image.session.release().catch(() => {});
      await text.session.release().catch(() => {});
    }
  }

  /**
   * Imports a folder of ONNX models: an Immich model folder, a Hugging Face snapshot of a CLIP
   * export (`variant` picks its precision), or a user's own pair. Reads the io names and embedding
   * width from the graphs and, for Immich and Hugging Face folders, the processing (crop,
   * normalisation, pad token, context length) from their config files; copies the two graphs into
   * the user models folder and lists them in the user manifest.
   */
  async importFolder(folder: string, opts: { variant?: Variant } = {}): Promise<ModelInfo> {
    const abs = resolvePath(folder);
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      throw new Error(`Cannot read the folder ${abs}: ${(err as Error).message}`);
    }
    const layout = readLayout(abs, opts.variant);
    if (!layout && opts.variant) {
      throw new Error(`${abs} is not a Hugging Face snapshot (no onnx/vision_model*.onnx); a variant can only be chosen there.`);
    }
    const pair = layout ? { image: layout.imageName, text: layout.textName } : pickPair(names, abs);
    const files = layout ? { image: layout.image, text: layout.text } : { image: join(abs, pair.image), text: join(abs, pair.text) };
    const displayName = layout?.name ?? basename(abs);
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
      const graphSize = typeof h === 'number' && h > 0 && h === inShape?.[3] ? h : null;
      const statedSize = layout?.preprocess.size;
      if (graphSize !== null && statedSize !== undefined && statedSize !== graphSize) {
        throw new Error(`${files.image} takes ${graphSize}×${graphSize} images but ${layout!.sources[0] ?? 'its config'} says ${statedSize}; the folder's files do not belong together.`);
      }
      const size = graphSize ?? statedSize ?? CLIP_PREPROCESS.size;
      const imageDim = await outputDim(image.session, image.summary, io.imageOutput, () => zeroImage(io.imageInput, size));
      const textInput = text.summary.inputs.find((v) => v.name === io.textInput)!;
      const textDim = await outputDim(text.session, text.summary, io.textOutput, () => zeroText(textInput, io.textMask));
      if (imageDim !== textDim) {
        throw new Error(`${pair.image} outputs ${imageDim}-d vectors but ${pair.text} outputs ${textDim}-d; they are not one model's pair.`);
      }
      const id = modelIdFrom(displayName.replace(/\//g, '-'), (c) => this.listed.has(c) || existsSync(join(this.opts.userDir, c)));
      const what = layout
        ? ` (${layout.kind === 'immich' ? 'Immich model folder' : `Hugging Face snapshot, ${layout.variant}`}${layout.sources.length ? `; settings from ${layout.sources.join(', ')}` : ''})`
        : '';
      // A graph with fixed 77-wide ids states the context length too; the config files win otherwise.
      const idsWidth = textInput.shape?.[1];
      const tokens = { ...(typeof idsWidth === 'number' && idsWidth > 0 ? { contextLength: idsWidth } : {}), ...layout?.tokens };
      if (typeof idsWidth === 'number' && tokens.contextLength !== idsWidth) {
        throw new Error(`${files.text} takes ${idsWidth} token ids but the folder's config says ${tokens.contextLength}; the folder's files do not belong together.`);
      }
      entry = {
        id,
        name: displayName,
        role: 'other',
        description: `Imported from ${abs}${what}`,
        dim: imageDim,
        image: { file: `${id}/${pair.image}`, bytes: 0, sha256: '' },
        text: { file: `${id}/${pair.text}`, bytes: 0, sha256: '' },
        io,
        ...(layout ? { preprocess: { ...layout.preprocess, size } } : size !== CLIP_PREPROCESS.size ? { preprocess: { size } } : {}),
        ...(Object.keys(tokens).length ? { tokens } : {}),
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

  /**
   * Deletes what LeanLens put in the user folder for a model: a download's files (the catalog
   * entry stays, so it can be downloaded again), or an import's or lab variant's files and entry.
   * Bundled models' own files are never touched.
   */
  remove(id: string): void {
    const { source } = this.get(id);
    const dir = join(this.opts.userDir, id);
    if (source.kind !== 'user' && !existsSync(dir)) {
      throw new Error(`Model "${id}" ships with LeanLens and has no downloaded files to remove.`);
    }
    if (source.kind === 'user') {
      const current: Manifest = readManifest(this.userManifestPath, true);
      writeManifest(this.userManifestPath, { version: 1, models: current.models.filter((m) => m.id !== id) });
    }
    rmSync(dir, { recursive: true, force: true });
    this.reload();
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
        `Unknown model "${id}". ${known.length ? `Known models: ${known.join(', ')}.` : 'No models are listed.'} Download one of them or import your own.`,
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
