/**
 * The one contract between the UI and the core.
 *
 * Every call the renderer may make and every event the core pushes is declared here, once:
 * its name, a runtime schema for its argument (validated in the main process whatever the
 * transport), and its result type. The Electron IPC handlers, the preload bridge, the HTTP/WS
 * bridge and the renderer client are all derived by iterating over `calls` — adding a call
 * means editing this file (and implementing it in `App`).
 */
import { z } from 'zod';
import paperReference from './paper-reference.json' with { type: 'json' };

// The search box's grammar: the renderer edits a query through it (removing a chip) without a round trip.
export { withoutSpan } from './query-language.ts';

// ---------------------------------------------------------------------------------------------
// Domain types (shared by core, services, CLI, server and renderer)
// ---------------------------------------------------------------------------------------------

export type PhotoStatus = 'pending' | 'indexed' | 'failed';
export type FolderState = 'watching' | 'scanning' | 'offline' | 'idle' | 'held';

export interface Folder {
  id: number;
  path: string;
  state: FolderState;
  photoCount: number;
  indexedCount: number;
  failedCount: number;
  /** Deletions held back because too many photos vanished at once (unplugged drive, bad sync). */
  heldDeletions: number;
  addedAt: number;
  /** Text in its photos is read (OCR): the user's switch, else on for folders named like Screenshots or Scans. */
  ocr?: boolean;
}

/** The bundled ShapesWorld demo: its photos, their captions (a labelled set for the lab), its trained pair, queries to try. */
export interface DemoInfo {
  photos: string;
  labelled: string;
  model: string;
  /** The model distilled from `model`, when installed. */
  student: string | null;
  queries: string[];
}

/** What `library.demo` set up: the bundled ShapesWorld photos, the model trained on them, queries to try. */
export interface DemoLibrary {
  folder: Folder;
  /** The model the demo switched to, or null when it is not installed (search then uses the active one). */
  model: string | null;
  queries: string[];
}

export interface Photo {
  id: number;
  folderId: number;
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
  width: number | null;
  height: number | null;
  /** Capture time from EXIF (ms since epoch), falling back to the file's mtime when absent. */
  takenAt: number | null;
  /** Where `takenAt` came from: the photo's EXIF, or the file's time when it has none; null until indexed. */
  takenAtSource: 'exif' | 'file' | null;
  camera: string | null;
  format: string | null;
  status: PhotoStatus;
  error: string | null;
}

/** One tile of the Photos timeline: what the justified grid and its labels need, nothing more. */
export interface TimelinePhoto {
  id: number;
  name: string;
  path: string;
  width: number | null;
  height: number | null;
  /** Capture time (ms since epoch, local wall clock as the camera wrote it). */
  takenAt: number;
  takenAtSource: 'exif' | 'file' | null;
  mtimeMs: number;
}

/** How many timeline photos each day holds, newest day first ('YYYY-MM-DD' in the library's local time). */
export interface TimelineDay {
  day: string;
  count: number;
}

export interface Timeline {
  /** Photos in the timeline (indexed ones: their size and date are known). */
  total: number;
  days: TimelineDay[];
}

export interface SearchHit {
  photo: Photo;
  /** Cosine similarity between the query and the photo, in [-1, 1]. */
  score: number;
  /**
   * Set when the query's words were found in the text read in the photo (OCR). Hits are ranked by
   * `score + TEXT_MATCH_WEIGHT × textMatch.score`, and a text match is always relevant: a
   * relevance cut-off must keep it whatever its cosine.
   */
  textMatch?: TextMatch | null;
}

/** How a photo's recognised text matched a query. */
export interface TextMatch {
  /** 0..1: the weighted share of the query's words (and quoted phrases) found. */
  score: number;
  /** The photo's words (lower case, no diacritics) that matched: the preview highlights them. */
  words: string[];
}

/** How much a full text match (score 1) adds to a hit's cosine when ranking. */
export const TEXT_MATCH_WEIGHT = 0.5;

/** One recognised word: box = [x0, y0, x1, y1] as fractions (0..1) of the photo as displayed. */
export interface PhotoTextWord {
  text: string;
  confidence: number;
  box: [number, number, number, number];
  /** With `text.get`'s `query`: the word matches it (the preview highlights it). */
  match?: boolean;
}

/** The text read in a photo. `pending`: not read yet; `off`: its folder does not read text. */
export interface PhotoText {
  photoId: number;
  state: 'text' | 'none' | 'failed' | 'pending' | 'off';
  text: string;
  /** Mean word confidence (0–100), null without words. */
  confidence: number | null;
  words: PhotoTextWord[];
  error: string | null;
  readAt: number | null;
}

/** Photos counted by what OCR made of them (photos in folders where OCR is on). */
export interface TextCounts {
  /** Read (with or without text found). */
  read: number;
  withText: number;
  /** Embedded but not read yet. */
  pending: number;
  failed: number;
}

export interface TextStatus extends TextCounts {
  /** OCR is switched on in the settings. */
  enabled: boolean;
  progress: IndexProgress;
}

/** Where a text search cut its results (see main/core/relevance.ts). */
export interface SearchCutoff {
  /** 'adaptive': this query's own cut-off (the default); 'fixed': the caller's minScore; 'all': every photo, ranked. */
  mode: 'adaptive' | 'fixed' | 'all';
  /** The score results were cut at; null when nothing was cut. */
  minScore: number | null;
  /** This query's adaptive cut-off, whatever the mode (the UI's slider starts there); null for a filters-only query. */
  adaptive: number | null;
  /** Photos that match the filters but scored below `minScore`. */
  below: number;
}

/** A filter the query language read from the search box, with the characters it came from (a chip). */
export interface QueryChip {
  kind: 'folder' | 'date' | 'type' | 'camera';
  label: string;
  start: number;
  end: number;
}

/** How the search box was understood. */
export interface QueryUnderstood {
  positives: { text: string; weight: number }[];
  negatives: { text: string; weight: number }[];
  chips: QueryChip[];
}

export interface SearchResult {
  hits: SearchHit[];
  /** Hits before paging/limit but after filters and the relevance cut-off. */
  total: number;
  modelId: string;
  tookMs: number;
  /** Text searches: the cut-off used and how many photos fell below it. */
  cutoff?: SearchCutoff;
  /** Text searches: the parsed query (terms and filter chips). */
  query?: QueryUnderstood;
}

export interface IndexProgress {
  state: 'idle' | 'running' | 'paused';
  done: number;
  total: number;
  failed: number;
  /** Photos per second over the recent window; 0 while idle. */
  rate: number;
  /** Seconds left at the current rate, null when unknown. */
  etaSeconds: number | null;
  current: string | null;
  /** Why indexing paused by itself and what to do (e.g. the disk holding the data folder is full); absent otherwise. */
  stopped?: string;
}

export interface FailedPhoto {
  id: number;
  path: string;
  reason: string;
}

export type ModelRole = 'teacher' | 'student' | 'other';

export interface ModelLineage {
  parent: string;
  transform: string;
  params: Record<string, unknown>;
}

export interface ModelInfo {
  id: string;
  name: string;
  role: ModelRole;
  dim: number;
  installed: boolean;
  active: boolean;
  bytes: number;
  downloadable: boolean;
  lineage: ModelLineage | null;
  problems: string[];
  description: string;
  /** Licence name (e.g. "MIT"), or null when the manifest does not say. */
  licence: string | null;
  /** Where the licence text is, for the UI to show before a download. */
  licenceUrl: string | null;
  /** True when the licence must be accepted before download (`models.download` with `acceptLicense`). */
  requiresAcceptance: boolean;
  /** Upstream revision the files are pinned to, or null. */
  revision: string | null;
  /** A test or benchmark model (colour oracle, random weights): it cannot understand real photos. */
  testModel: boolean;
}

export interface ExecutionInfo {
  /** The execution provider actually used, e.g. 'cpu', 'cuda'. */
  provider: string;
  requested: string[];
  /** Why a requested provider was not used, one line each; empty when the first choice worked. */
  fallbackReasons: string[];
  threads: number;
  /**
   * How often the encoder process crashed and was restarted (0 or absent: never). A crash kills
   * only that process (ONNX Runtime runs outside the app's process); the photos in flight are
   * retried once, so the UI can say "the encoder crashed and was restarted (1×): <reason>".
   */
  restarts?: number;
  /** The last crash, null or absent when none. */
  lastCrash?: EncoderCrash | null;
}

/** One crash of the encoder process: why (e.g. "signal SIGKILL", "exit code 134") and when (ms since epoch). */
export interface EncoderCrash {
  reason: string;
  at: number;
}

export interface Status {
  files: number;
  indexed: number;
  pending: number;
  failed: number;
  errors: { path: string; reason: string }[];
  model: string | null;
  execution: ExecutionInfo | null;
  progress: IndexProgress;
  /** A switch of model waiting for the new model to cover the library; null when none. */
  switching: SwitchProgress | null;
  /** The model in use is a test model: real photos need a real one (e.g. `clip-vit-b32`). */
  testModel: boolean;
  dataDir: string;
  /** Text in photos (OCR): counts and the pass's progress. */
  text?: TextStatus;
  /**
   * The database check owed after LeanLens stopped without closing, on a library too big to check
   * at open: what it is doing, or the damage it found and what to do. Absent once passed.
   */
  databaseCheck?: string;
}

/**
 * "Switching to X: 1,234 / 10,000": the new model indexes in the background while searches keep
 * using the current one, and takes over when it covers the library.
 */
export interface SwitchProgress {
  from: string;
  to: string;
  progress: IndexProgress;
}

export interface Settings {
  threads: number;
  /** Use a supported GPU when there is one (automatic, the default), else the CPU. */
  useGpu: boolean;
  thumbnailSize: number;
  theme: 'system' | 'light' | 'dark';
  /** Read text in photos (OCR) in the folders where it is on. */
  ocr: boolean;
  /** Similarity scores on every result tile; off: only on hover, as photo apps do. */
  showScores: boolean;
  /** List the test models (colour oracle, random weights) in Models; off: hidden unless one is in use. */
  showTestModels: boolean;
}

export interface DownloadProgress {
  modelId: string;
  received: number;
  total: number | null;
  done: boolean;
  error: string | null;
}


// --- Model lab (issue 5) ---------------------------------------------------------------------

/** The machine a lab run measured on: the figures only mean something beside it. */
export interface LabMachine {
  cpu: string;
  cores: number;
  os: string;
  /** Execution provider(s) the sessions actually used, e.g. 'cpu'. */
  provider: string;
  threads: number;
  node: string;
}

export interface Percentiles {
  p50: number;
  p95: number;
}

export interface RecallAtK {
  1: number;
  5: number;
  10: number;
}

/** One model's figures in one lab run. Null where a figure could not be measured (see `error`/`notes`). */
export interface LabModelResult {
  modelId: string;
  name: string;
  role: ModelRole;
  lineage: ModelLineage | null;
  dim: number;
  diskBytes: number;
  /** Session creation, per tower (ms). */
  loadMs: { image: number | null; text: number | null };
  /** Peak resident memory of a child process that loaded this model alone and ran the speed tests. */
  peakRssBytes: number | null;
  /** The same child's peak before it loaded the model (node, sharp, decoded photos). */
  baselineRssBytes: number | null;
  imagesPerSecBatch1: number | null;
  imagesPerSecBatch8: number | null;
  /** Tokenize + encode one query. */
  textLatencyMs: Percentiles | null;
  /** Tokenize + encode + search the library's vectors for this model. */
  queryLatencyMs: Percentiles | null;
  /** Agreement with the teacher on the library, no labels needed. */
  fidelity: {
    k: number;
    queries: number;
    photos: number;
    overlapAtK: number | null;
    spearman: number | null;
    /** Mean cosine to the parent's embeddings (same embedding space only); null otherwise. */
    cosineToParent: { parent: string; image: number | null; text: number | null; mean: number | null } | null;
  } | null;
  /** With a labelled set: text→image and image→text recall@1/5/10. */
  recall: { setSize: number; captions: number; t2i: RecallAtK; i2t: RecallAtK } | null;
  execution: ExecutionInfo | null;
  notes: string[];
  error: string | null;
}

export type LabRunState = 'running' | 'done' | 'failed' | 'cancelled';

export interface LabRun {
  id: number;
  state: LabRunState;
  teacher: string;
  models: string[];
  labelled: string | null;
  queries: string[];
  machine: LabMachine;
  createdAt: number;
  finishedAt: number | null;
  error: string | null;
  results: LabModelResult[];
}

export type LabStage = 'prepare' | 'vectors' | 'speed' | 'fidelity' | 'recall' | 'variant' | 'done' | 'failed' | 'cancelled';

/** Pushed while a lab run (runId) or a variant build (runId null) works. */
export interface LabProgress {
  runId: number | null;
  stage: LabStage;
  modelId: string | null;
  done: number;
  total: number;
  message: string;
}

export interface LabCompareHit extends SearchHit {
  /** True when the other model did not return this photo in its top `limit`. */
  onlyHere: boolean;
}

export interface LabCompareResult {
  text: string;
  limit: number;
  teacher: { modelId: string; hits: LabCompareHit[]; tookMs: number };
  student: { modelId: string; hits: LabCompareHit[]; tookMs: number };
  overlap: number;
}

// --- Smart albums (issue 10 §3) ------------------------------------------------------------------

/**
 * A smart album: a saved search, run again whenever it is opened or counted, so it always shows
 * the library as it is now. It keeps the query, never vectors, so it survives a switch of model.
 */
export interface Album {
  id: number;
  name: string;
  /** The search as the user ran it: the text exactly as typed, filters, cut-off, sort. */
  query: SavedSearch;
  /** The model in use when it was saved; null when none was. */
  savedWith: string | null;
  /** The model its search runs with now (the active one). */
  searchesWith: string | null;
  /** How many photos match now; null when the search could not run (see `problem`). */
  count: number | null;
  /** Why this album cannot be shown right now (its folder was removed, no model…), else null. */
  problem: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface AlbumResult {
  album: Album;
  result: SearchResult;
}

// --- Near-duplicates (issue 10 §4) -------------------------------------------------------------

export interface DuplicatePhoto {
  photo: Photo;
  /** Its best aligned similarity to another photo of the group, in [-1, 1] (1 = the same picture). */
  similarity: number;
}

/** Photos that look the same: copies of one picture. LeanLens never deletes or moves any of them. */
export interface DuplicateGroup {
  /** The first photo's id: stable while the group's first photo stays the same. */
  id: number;
  /** Largest picture first (most likely the original). */
  photos: DuplicatePhoto[];
}

export interface DuplicatesResult {
  groups: DuplicateGroup[];
  /** The similarity the groups were made at. */
  similarity: number;
  /** Indexed photos looked at. */
  photos: number;
  /** Pairs proposed (by the hash or the model's vectors) and compared. */
  pairsCompared: number;
  /** Photos whose file could not be read now, with the reason; the others were still compared. */
  unreadable: FailedPhoto[];
  /** The model whose vectors proposed pairs, or null when none had indexed the library. */
  modelId: string | null;
  tookMs: number;
}

/** Progress of a search for duplicates: fingerprinting new photos, proposing pairs, comparing them. */
export interface DuplicatesProgress {
  stage: 'fingerprints' | 'proposing' | 'comparing' | 'done' | 'stopped';
  done: number;
  total: number;
  /** Items per second in this stage; 0 until known. */
  rate: number;
  etaSeconds: number | null;
}

// ---------------------------------------------------------------------------------------------
// Argument schemas
// ---------------------------------------------------------------------------------------------

const id = z.number().int().nonnegative();
const text = z.string().max(2000);
/**
 * A path a person chose (a folder to add, a model to import). Absolute, because a relative one
 * would be read against whatever folder the app was started from; no NUL, which no file system
 * allows and which would otherwise surface as an internal error.
 */
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain a NUL character')
  .refine((p) => /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(p), 'the path must be absolute');
const dateMs = z.number().int().nullable().optional();

export const searchArgs = z.object({
  text: text,
  limit: z.number().int().min(1).max(100_000).optional(),
  offset: z.number().int().min(0).optional(),
  /** A fixed cut-off; without it the query's adaptive cut-off applies, unless `relevance` is 'all'. */
  minScore: z.number().min(-1).max(1).optional(),
  relevance: z.enum(['adaptive', 'all']).optional(),
  folderId: id.nullable().optional(),
  from: dateMs,
  to: dateMs,
  sort: z.enum(['relevance', 'date']).optional(),
  /** Only photos whose recognised text matches the query. */
  textOnly: z.boolean().optional(),
});
export type SearchArgs = z.infer<typeof searchArgs>;

export const similarArgs = z.object({
  /** A library photo, several ("more like these": their mean direction), or an external image sent as base64 (dropped file). */
  photoId: id.optional(),
  photoIds: z.array(id).min(1).max(1000).optional(),
  imageBase64: z.string().max(64 * 1024 * 1024).optional(),
  limit: z.number().int().min(1).max(100_000).optional(),
  minScore: z.number().min(-1).max(1).optional(),
}).refine((a) => [a.photoId, a.photoIds, a.imageBase64].filter((x) => x !== undefined).length === 1, {
  message: 'give exactly one of photoId, photoIds or imageBase64',
});
export type SimilarArgs = z.infer<typeof similarArgs>;

const none = z.object({}).strict().optional();

/** A page of the timeline, newest first; pages are small enough to answer in a few ms. */
export const timelinePageArgs = z.object({ offset: z.number().int().min(0), limit: z.number().int().min(1).max(2000) });

const settingsPatch = z.object({
  threads: z.number().int().min(1).max(256).optional(),
  useGpu: z.boolean().optional(),
  thumbnailSize: z.number().int().min(64).max(1024).optional(),
  theme: z.enum(['system', 'light', 'dark']).optional(),
  ocr: z.boolean().optional(),
  showScores: z.boolean().optional(),
  showTestModels: z.boolean().optional(),
});


// Lab arguments. A variant spec is checked here, so a bad spec never reaches a transform.
const modelId = z.string().min(1).max(200);
export const variantSpecArgs = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fp16') }).strict(),
  z.object({
    kind: z.literal('int8'),
    mode: z.enum(['weight-only', 'dynamic']).optional(),
    symmetric: z.boolean().optional(),
    perChannel: z.boolean().optional(),
  }).strict(),
  z.object({ kind: z.literal('int4'), blockSize: z.number().int().min(16).max(256).optional() }).strict(),
  z.object({
    kind: z.literal('mixed'),
    /** Size budget for the HAWQ choice, in MB (10^6 bytes). */
    budgetMb: z.number().positive().max(100_000).optional(),
    /** Candidate bit-widths. */
    bits: z.array(z.union([z.literal(4), z.literal(8), z.literal(16), z.literal(32)])).min(1).max(4).optional(),
  }).strict(),
  z.object({
    kind: z.literal('lowrank'),
    rank: z.number().int().min(1).max(100_000).optional(),
    energy: z.number().gt(0).max(1).optional(),
  }).strict().refine((a) => (a.rank === undefined) !== (a.energy === undefined), { message: 'give exactly one of rank or energy' }),
]);
export type VariantSpecArgs = z.infer<typeof variantSpecArgs>;

export const labRunArgs = z.object({
  models: z.array(modelId).min(1).max(32),
  teacher: modelId,
  /** A JSON list of {file, captions} (coco-mini's format). */
  labelled: path.optional(),
  queries: z.array(z.string().min(1).max(500)).min(1).max(1000).optional(),
  /** Top-K for overlap@K (default 10). */
  k: z.number().int().min(1).max(1000).optional(),
  /** Iterations of the speed tests (default: a few; keep small on slow machines). */
  iterations: z.number().int().min(1).max(1000).optional(),
});
export type LabRunArgs = z.infer<typeof labRunArgs>;

export const labCompareArgs = z.object({
  teacher: modelId,
  student: modelId,
  text: z.string().min(1).max(2000),
  limit: z.number().int().min(1).max(200).optional(),
});
const labRunIdArgs = z.object({ runId: id });
const labResultsArgs = z.object({ runId: id.optional() }).optional();
const labExportArgs = z.object({ runId: id, format: z.enum(['csv', 'json']) });
export const labVariantArgs = z.object({ model: modelId, spec: variantSpecArgs });
/** A student to train: the teacher's text layers at these indices, a fresh ViT-S/16-shaped image tower. */
export const labInitStudentArgs = z.object({
  teacher: modelId,
  textLayers: z.array(z.number().int().nonnegative()).min(1).max(64),
  id: modelId.optional(),
});

/**
 * What a smart album keeps: the search request without its paging, so whatever a search request
 * can say (text, filters, cut-off, sort) an album says too. Stored as JSON and run again as is.
 */
export const savedSearch = searchArgs.omit({ limit: true, offset: true }).refine(
  (q) => q.text.trim() !== '' || q.folderId != null || q.from != null || q.to != null,
  { message: 'an album needs search words or a filter' },
);
export type SavedSearch = z.infer<typeof savedSearch>;
/** The local calendar day of a time, 'YYYY-MM-DD' (what a date input shows). */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/**
 * A saved search in words, one part each — the text as typed, then its filters, cut-off and order —
 * so the sidebar, the album view and `leanlens albums` describe an album the same way. Dates are
 * the local calendar days the filter starts and ends on.
 */
export function savedSearchParts(q: SavedSearch, folderName: (id: number) => string | null): string[] {
  const day = localDay;
  const parts = [q.text.trim() ? `"${q.text.trim()}"` : 'filters only'];
  if (q.minScore !== undefined) parts.push(`score ≥ ${q.minScore.toFixed(3)}`);
  if (q.relevance === 'all') parts.push('every photo, ranked');
  if (q.folderId != null) parts.push(`in ${folderName(q.folderId) ?? 'a removed folder'}`);
  if (q.from != null) parts.push(`from ${day(q.from)}`);
  if (q.to != null) parts.push(`to ${day(q.to)}`);
  if (q.sort === 'date') parts.push('newest first');
  return parts;
}
/** Album names: what the sidebar shows and `leanlens albums show <name>` takes (case-insensitive). */
export const albumName = z
  .string()
  .trim()
  .min(1, 'give the album a name')
  .max(100, 'an album name is at most 100 characters');
/** One album, by id (the UI) or by name (the CLI). */
const albumRef = {
  id: id.optional(),
  name: z.string().max(100).optional(),
};
const exactlyOne = [(a: { id?: number; name?: string }) => (a.id === undefined) !== (a.name === undefined), { message: 'give exactly one of id or name' }] as const;
export const albumGetArgs = z
  .object({ ...albumRef, limit: z.number().int().min(1).max(100_000).optional(), offset: z.number().int().min(0).optional() })
  .refine(...exactlyOne);
export const albumSaveArgs = z.object({ name: albumName, query: savedSearch });
export const albumRenameArgs = z.object({ ...albumRef, to: albumName }).refine(...exactlyOne);
export const albumRemoveArgs = z.object(albumRef).refine(...exactlyOne);

/** `acceptLicense`: the user has seen and accepted the model's licence (needed when `requiresAcceptance`). */
export const modelDownloadArgs = z.object({ id: z.string().min(1).max(200), acceptLicense: z.boolean().optional() });
/** `variant`: which precision to take from a Hugging Face snapshot holding several (onnx/vision_model_quantized.onnx …). */
export const modelIdArgs = z.object({ id: z.string().min(1).max(200) });
export const modelUseArgs = z.object({ id: z.string().min(1).max(200), now: z.boolean().optional() });
export const modelImportArgs = z.object({ path, variant: z.enum(['quantized', 'fp16', 'fp32']).optional() });

const folderOcrArgs = z.object({ id, on: z.boolean() });
const folderAddArgs = z.object({ path, ocr: z.boolean().optional() });
/** `query`: mark the words that match this search (the same rule as search's text match). */
const photoIdArgs = z.object({ photoId: id, query: text.optional() });
/** `similarity`: how alike two photos must look to be grouped, 0.5–1 (default 0.9). */
export const duplicatesFindArgs = z.object({ similarity: z.number().min(0.5).max(1).optional() }).optional();
export const duplicatesExportArgs = z.object({ similarity: z.number().min(0.5).max(1).optional(), format: z.enum(['csv', 'json']) });

/**
 * Every call: argument schema and (phantom) result type. The `result` field is never read at
 * run time; it carries the result type so clients are typed from this table alone.
 */
function call<A extends z.ZodType, R>(args: A) {
  return { args, result: undefined as unknown as R };
}

export const calls = {
  'folders.list': call<typeof none, Folder[]>(none),
  /** `ocr`: read text in its photos (default: on for folders named like Screenshots or Scans). */
  'folders.add': call<typeof folderAddArgs, Folder>(folderAddArgs),
  'folders.remove': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  'folders.confirmDeletions': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  /** Scans a held folder again after its files were put back; those still missing stay held. */
  'folders.restoreDeletions': call<z.ZodObject<{ id: typeof id }>, Folder>(z.object({ id })),
  /** Turns reading text (OCR) on or off for one folder. */
  'folders.setOcr': call<typeof folderOcrArgs, Folder>(folderOcrArgs),
  'library.demo': call<typeof none, DemoLibrary>(none),
  'library.demoInfo': call<typeof none, DemoInfo | null>(none),
  'index.status': call<typeof none, Status>(none),
  'index.pause': call<typeof none, IndexProgress>(none),
  'index.resume': call<typeof none, IndexProgress>(none),
  'index.failures': call<typeof none, FailedPhoto[]>(none),
  'search.text': call<typeof searchArgs, SearchResult>(searchArgs),
  'search.similar': call<typeof similarArgs, SearchResult>(similarArgs),
  'text.get': call<typeof photoIdArgs, PhotoText>(photoIdArgs),
  'text.pause': call<typeof none, IndexProgress>(none),
  'text.resume': call<typeof none, IndexProgress>(none),
  'photos.get': call<z.ZodObject<{ id: typeof id }>, Photo>(z.object({ id })),
  /** The Photos timeline's shape: how many photos each day holds (a GROUP BY, no rows loaded). */
  'photos.timeline': call<typeof none, Timeline>(none),
  /** Timeline photos `offset` … `offset + limit - 1`, newest first (the order `photos.timeline` counts in). */
  'photos.page': call<typeof timelinePageArgs, TimelinePhoto[]>(timelinePageArgs),
  /** Where a photo sits in the timeline (its index), or null when it is not in it: a shared link opens there. */
  'photos.position': call<z.ZodObject<{ id: typeof id }>, { index: number | null }>(z.object({ id })),
  'photos.open': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  'photos.showInFolder': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  'models.list': call<typeof none, ModelInfo[]>(none),
  /** Switches search to a model: at once when it already covers the library (or `now`), else after it has indexed it in the background. */
  'models.use': call<typeof modelUseArgs, ModelInfo>(modelUseArgs),
  /** Deletes a downloaded, imported or lab-made model and its vectors (bundled models stay). */
  'models.remove': call<typeof modelIdArgs, ModelInfo[]>(modelIdArgs),
  'models.download': call<typeof modelDownloadArgs, ModelInfo>(modelDownloadArgs),
  'models.import': call<typeof modelImportArgs, ModelInfo>(modelImportArgs),
  /** Stops a download in progress; the partial file is kept so the next download resumes. */
  'models.cancelDownload': call<typeof modelIdArgs, { cancelled: boolean }>(modelIdArgs),
  'settings.get': call<typeof none, Settings>(none),
  'settings.set': call<typeof settingsPatch, Settings>(settingsPatch),
  /** Every smart album with how many photos match it now. */
  'albums.list': call<typeof none, Album[]>(none),
  /** Runs an album's saved search: the album and its photos, as a search would return them. */
  'albums.get': call<typeof albumGetArgs, AlbumResult>(albumGetArgs),
  /** Saves a search as a smart album; a name already taken is refused. */
  'albums.save': call<typeof albumSaveArgs, Album>(albumSaveArgs),
  'albums.rename': call<typeof albumRenameArgs, Album>(albumRenameArgs),
  /** Forgets an album (its photos are untouched: an album holds a search, not photos). */
  'albums.remove': call<typeof albumRemoveArgs, void>(albumRemoveArgs),
  'lab.models': call<typeof none, ModelInfo[]>(none),
  'lab.run': call<typeof labRunArgs, { runId: number }>(labRunArgs),
  'lab.cancel': call<typeof labRunIdArgs, { cancelled: boolean }>(labRunIdArgs),
  'lab.results': call<typeof labResultsArgs, LabRun[]>(labResultsArgs),
  'lab.export': call<typeof labExportArgs, string>(labExportArgs),
  'lab.compare': call<typeof labCompareArgs, LabCompareResult>(labCompareArgs),
  'lab.variant': call<typeof labVariantArgs, ModelInfo>(labVariantArgs),
  'lab.initStudent': call<typeof labInitStudentArgs, ModelInfo>(labInitStudentArgs),
  /** Groups of near-identical photos (resized, recompressed, cropped, brightened, converted copies). */
  'duplicates.find': call<typeof duplicatesFindArgs, DuplicatesResult>(duplicatesFindArgs),
  /** The groups as CSV (one row per photo) or JSON, for the user to act on: LeanLens deletes nothing. */
  'duplicates.export': call<typeof duplicatesExportArgs, string>(duplicatesExportArgs),
  /** Stops a search for duplicates in progress (fingerprints made so far are kept). */
  'duplicates.stop': call<typeof none, { stopped: boolean }>(none),
} as const;

export type CallName = keyof typeof calls;
export type CallArgs<N extends CallName> = z.input<(typeof calls)[N]['args']>;
export type CallResult<N extends CallName> = (typeof calls)[N]['result'];
export const callNames = Object.keys(calls) as CallName[];

/** Events pushed from the core to every UI; never polled. */
export interface Events {
  'index.progress': IndexProgress;
  /** Photos added, changed or removed; the UI refreshes open results. */
  'library.changed': { added: number[]; changed: number[]; removed: number[] };
  'folders.changed': Folder[];
  'models.download': DownloadProgress;
  'models.changed': ModelInfo[];
  /** Progress of a background switch of model; null when it ended (switched or cancelled). */
  'models.switching': SwitchProgress | null;
  /** Lab run and variant-build progress; a run's last event has stage done, failed or cancelled. */
  'lab.progress': LabProgress;
  /** Progress of the OCR pass (reading text in photos). */
  'text.progress': IndexProgress;
  /**
   * What the smart albums show may have changed: photos were indexed or removed ('library', sent
   * at most twice a second while indexing), the model changed ('model'), or an album was saved,
   * renamed or removed ('albums'). The UI fetches the counts and the open album again.
   */
  'albums.changed': { cause: 'library' | 'model' | 'albums' };
  /** Progress of a search for duplicates (`duplicates.find`). */
  'duplicates.progress': DuplicatesProgress;
}
export type EventName = keyof Events;
export const eventNames: EventName[] = [
  'index.progress',
  'library.changed',
  'folders.changed',
  'models.download',
  'models.changed',
  'models.switching',
  'lab.progress',
  'text.progress',
  'albums.changed',
  'duplicates.progress',
];

/** What every transport's client looks like: one async function per call. */
export type Api = { [N in CallName]: (args: CallArgs<N>) => Promise<CallResult<N>> };

/** Every code an AppError may carry; clients parse errors against this list. */
export const errorCodes = ['invalid-argument', 'not-found', 'unsupported', 'failed'] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** Errors that cross the contract carry a stable code and a message a person can act on. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Validates a call's argument; throws an AppError('invalid-argument') that says what is wrong. */
export function parseArgs<N extends CallName>(name: N, raw: unknown): z.output<(typeof calls)[N]['args']> {
  const schema = calls[name]?.args;
  if (!schema) throw new AppError('not-found', `unknown call "${String(name)}"`);
  const r = schema.safeParse(raw ?? undefined);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.') || 'argument'}: ${i.message}`).join('; ');
    throw new AppError('invalid-argument', `${name}: ${why}`);
  }
  return r.data as z.output<(typeof calls)[N]['args']>;
}

/**
 * The paper's reference figures, in one file (paper-reference.json) read by the lab's panel and
 * benchmarks here and by the Python pipeline (models/distill), so the two never disagree.
 */
export const PAPER_REFERENCE = paperReference;

/**
 * Over HTTP, a client that sends this header gets the app's own errors (AppError: "no such
 * folder", "not supported here") with status 200 and `{ ok: false, error }`: they are answers the
 * UI shows, and a 4xx would make the browser log each as a failed resource. Without it (scripts,
 * curl) the status says what went wrong.
 */
export const ERRORS_IN_BODY = { header: 'x-leanlens-errors', value: 'in-body' } as const;
