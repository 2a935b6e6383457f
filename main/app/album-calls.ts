/**
 * Smart albums ('albums.*'): saved searches with a name, run again through the search calls each
 * time an album is opened or counted, so an album always shows the library as it is now and
 * follows the model in use. Also tells every UI when what the albums show may have changed
 * ('albums.changed'), so an open album and the sidebar's counts update without a reload.
 */
import type { Album, AlbumResult, Api, Folder, SavedSearch, SearchResult } from '../core/contract.ts';
import { Albums, type AlbumRef, type StoredAlbum } from '../services/albums/index.ts';
import type { AppContext } from './context.ts';

type AlbumCallName = 'albums.list' | 'albums.get' | 'albums.save' | 'albums.rename' | 'albums.remove';

export interface AlbumCalls {
  calls: Pick<Api, AlbumCallName>;
  /** Photos were indexed, changed or removed, or the model changed: the albums' contents may differ now. */
  changed(cause: 'library' | 'model'): void;
  close(): void;
}

/**
 * While indexing streams batches in, at most one 'albums.changed' per this many ms: each one makes
 * every UI count every album again, which costs one search per album.
 */
export const ALBUMS_CHANGED_MS = 500;

/** What an album runs its saved search with: the search calls (not the lab's query memory). */
export type AlbumSearch = Pick<Api, 'search.text'>;

/**
 * Runs a saved search: the one place where an album becomes a search request. The text is passed
 * exactly as the user typed it, so when the query language reads that text, albums follow.
 */
export function runSavedSearch(search: AlbumSearch, query: SavedSearch, page: { limit?: number; offset?: number } = {}): Promise<SearchResult> {
  return search['search.text']({ ...query, ...page });
}

export function albumCalls(ctx: AppContext, search: AlbumSearch): AlbumCalls {
  const albums = new Albums(ctx.store);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: 'library' | 'model' | null = null;
  let closed = false;

  const modelInUse = () => ctx.model.id;
  const announce = () => ctx.emit('albums.changed', { cause: 'albums' });

  /** An album with its live count: its search run for one hit, which still reports the total. */
  const counted = async (stored: StoredAlbum, folders = ctx.library.listFolders()) =>
    (await present(stored, folders, (q) => runSavedSearch(search, q, { limit: 1 }))).album;

  /** An album as the contract shows it, with its live count (or why it has none) from `run`. */
  async function present(
    stored: StoredAlbum,
    folders: Folder[],
    run: (q: SavedSearch) => Promise<SearchResult>,
  ): Promise<{ album: Album; result: SearchResult | null }> {
    const album: Album = {
      id: stored.id,
      name: stored.name,
      query: stored.query ?? { text: '' },
      savedWith: stored.modelId,
      searchesWith: modelInUse(),
      count: null,
      problem: stored.queryProblem,
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
    };
    if (!stored.query) return { album, result: null };
    const folderId = stored.query.folderId;
    if (folderId != null && !folders.some((f) => f.id === folderId)) {
      album.problem = 'its folder has been removed from the library, so nothing matches';
    }
    try {
      const result = await run(stored.query);
      album.count = result.total;
      return { album, result };
    } catch (err) {
      // One album that cannot run (no model yet, say) still lists, with the reason.
      album.problem = (err as Error).message;
      return { album, result: null };
    }
  }

  return {
    calls: {
      async 'albums.list'() {
        const out: Album[] = [];
        const folders = ctx.library.listFolders();
        // One after the other: each search holds the model session for a moment, and no more.
        for (const stored of albums.list()) out.push(await counted(stored, folders));
        return out;
      },
      async 'albums.get'({ limit, offset, ...ref }) {
        const stored = albums.get(ref as AlbumRef);
        const { album, result } = await present(stored, ctx.library.listFolders(), (q) => runSavedSearch(search, q, { limit, offset }));
        if (!result) {
          return { album, result: { hits: [], total: 0, modelId: album.searchesWith ?? '', tookMs: 0 } } satisfies AlbumResult;
        }
        return { album, result };
      },
      async 'albums.save'({ name, query }) {
        const stored = albums.save(name, query, modelInUse());
        announce();
        return counted(stored);
      },
      async 'albums.rename'({ to, ...ref }) {
        const stored = albums.rename(ref as AlbumRef, to);
        announce();
        return counted(stored);
      },
      async 'albums.remove'(ref) {
        albums.remove(ref as AlbumRef);
        announce();
      },
    },
    changed(cause) {
      if (closed || albums.count() === 0) return;
      // A model change outranks a library change: the UI may say "now searching with Y".
      pending = pending === 'model' ? 'model' : cause;
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        const c = pending ?? 'library';
        pending = null;
        if (!closed) ctx.emit('albums.changed', { cause: c });
      }, ALBUMS_CHANGED_MS);
      timer.unref?.();
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
