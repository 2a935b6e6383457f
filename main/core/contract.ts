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
  camera: string | null;
  format: string | null;
  status: PhotoStatus;
  error: string | null;
}

export interface SearchHit {
  photo: Photo;
  /** Cosine similarity between the query and the photo, in [-1, 1]. */
  score: number;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Hits before paging/limit but after filters and the relevance cut-off. */
  total: number;
  modelId: string;
  tookMs: number;
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
}

export interface ExecutionInfo {
  /** The execution provider actually used, e.g. 'cpu', 'cuda'. */
  provider: string;
  requested: string[];
  /** Why a requested provider was not used, one line each; empty when the first choice worked. */
  fallbackReasons: string[];
  threads: number;
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
  dataDir: string;
}

export interface Settings {
  threads: number;
  useGpu: boolean;
  thumbnailSize: number;
  theme: 'system' | 'light' | 'dark';
}

export interface DownloadProgress {
  modelId: string;
  received: number;
  total: number | null;
  done: boolean;
  error: string | null;
}

// ---------------------------------------------------------------------------------------------
// Argument schemas
// ---------------------------------------------------------------------------------------------

const id = z.number().int().nonnegative();
const text = z.string().max(2000);
const path = z.string().min(1).max(4096);
const dateMs = z.number().int().nullable().optional();

export const searchArgs = z.object({
  text: text,
  limit: z.number().int().min(1).max(100_000).optional(),
  offset: z.number().int().min(0).optional(),
  minScore: z.number().min(-1).max(1).optional(),
  folderId: id.nullable().optional(),
  from: dateMs,
  to: dateMs,
  sort: z.enum(['relevance', 'date']).optional(),
});
export type SearchArgs = z.infer<typeof searchArgs>;

export const similarArgs = z.object({
  /** A library photo, or an external image sent as base64 (dropped file). */
  photoId: id.optional(),
  imageBase64: z.string().max(64 * 1024 * 1024).optional(),
  limit: z.number().int().min(1).max(100_000).optional(),
  minScore: z.number().min(-1).max(1).optional(),
}).refine((a) => (a.photoId === undefined) !== (a.imageBase64 === undefined), {
  message: 'give exactly one of photoId or imageBase64',
});
export type SimilarArgs = z.infer<typeof similarArgs>;

const none = z.object({}).strict().optional();

const settingsPatch = z.object({
  threads: z.number().int().min(1).max(256).optional(),
  useGpu: z.boolean().optional(),
  thumbnailSize: z.number().int().min(64).max(1024).optional(),
  theme: z.enum(['system', 'light', 'dark']).optional(),
});

/**
 * Every call: argument schema and (phantom) result type. The `result` field is never read at
 * run time; it carries the result type so clients are typed from this table alone.
 */
function call<A extends z.ZodType, R>(args: A) {
  return { args, result: undefined as unknown as R };
}

export const calls = {
  'folders.list': call<typeof none, Folder[]>(none),
  'folders.add': call<z.ZodObject<{ path: typeof path }>, Folder>(z.object({ path })),
  'folders.remove': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  'folders.confirmDeletions': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  'index.status': call<typeof none, Status>(none),
  'index.pause': call<typeof none, IndexProgress>(none),
  'index.resume': call<typeof none, IndexProgress>(none),
  'index.failures': call<typeof none, FailedPhoto[]>(none),
  'search.text': call<typeof searchArgs, SearchResult>(searchArgs),
  'search.similar': call<typeof similarArgs, SearchResult>(similarArgs),
  'photos.get': call<z.ZodObject<{ id: typeof id }>, Photo>(z.object({ id })),
  'photos.open': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  'photos.showInFolder': call<z.ZodObject<{ id: typeof id }>, void>(z.object({ id })),
  'models.list': call<typeof none, ModelInfo[]>(none),
  'models.use': call<z.ZodObject<{ id: z.ZodString }>, ModelInfo>(z.object({ id: z.string().min(1).max(200) })),
  'models.download': call<z.ZodObject<{ id: z.ZodString }>, ModelInfo>(z.object({ id: z.string().min(1).max(200) })),
  'models.import': call<z.ZodObject<{ path: typeof path }>, ModelInfo>(z.object({ path })),
  'settings.get': call<typeof none, Settings>(none),
  'settings.set': call<typeof settingsPatch, Settings>(settingsPatch),
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
}
export type EventName = keyof Events;
export const eventNames: EventName[] = [
  'index.progress',
  'library.changed',
  'folders.changed',
  'models.download',
  'models.changed',
];

/** What every transport's client looks like: one async function per call. */
export type Api = { [N in CallName]: (args: CallArgs<N>) => Promise<CallResult<N>> };

/** Errors that cross the contract carry a stable code and a message a person can act on. */
export class AppError extends Error {
  constructor(
    readonly code: 'invalid-argument' | 'not-found' | 'unsupported' | 'failed' | 'busy',
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
