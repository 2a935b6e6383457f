/**
 * albums — smart albums: saved searches with a name.
 *
 * Owns the `albums` table (migrations/004_albums.sql): each row is a name, the search request as
 * the user ran it (JSON, checked against the contract's `savedSearch` whenever it is read) and the
 * model in use when it was saved. Names are unique regardless of case, so "Holidays" and
 * "holidays" cannot both exist and `leanlens albums show holidays` finds "Holidays".
 * Must never: store vectors or photo ids (an album is a query, so it follows the library and
 * survives a switch of model), run searches itself (the app runs the saved request through the
 * search calls), or touch the user's photos.
 */
import { AppError, albumName, savedSearch, type SavedSearch } from '../../core/contract.ts';
import type { Store } from '../store/index.ts';

/** An album as stored; `query` is null when the stored JSON no longer reads as a search (see `queryProblem`). */
export interface StoredAlbum {
  id: number;
  name: string;
  query: SavedSearch | null;
  /** Why `query` is null. */
  queryProblem: string | null;
  modelId: string | null;
  createdAt: number;
  updatedAt: number;
}

interface AlbumRow {
  id: number;
  name: string;
  query: string;
  model_id: string | null;
  created_at: number;
  updated_at: number;
}

/** Which album: by id (the UI) or by name (the CLI). */
export type AlbumRef = { id: number; name?: undefined } | { name: string; id?: undefined };

export class Albums {
  constructor(private readonly store: Store) {}

  list(): StoredAlbum[] {
    const rows = this.store.db.prepare<[], AlbumRow>('SELECT * FROM albums ORDER BY name COLLATE NOCASE, id').all();
    return rows.map(fromRow);
  }

  /** How many albums there are: the app sends no album events while there are none. */
  count(): number {
    return this.store.db.prepare<[], number>('SELECT COUNT(*) FROM albums').pluck().get() ?? 0;
  }

  get(ref: AlbumRef): StoredAlbum {
    const row =
      ref.id !== undefined
        ? this.store.db.prepare<[number], AlbumRow>('SELECT * FROM albums WHERE id = ?').get(ref.id)
        : this.store.db.prepare<[string], AlbumRow>('SELECT * FROM albums WHERE name = ?').get(ref.name.trim());
    if (!row) throw new AppError('not-found', ref.id !== undefined ? `no album with id ${ref.id}` : `no album named "${ref.name.trim()}"`);
    return fromRow(row);
  }

  /** Saves a new album; a name already taken (in any case) is refused, and nothing changes. */
  save(name: string, query: SavedSearch, modelId: string | null, now = Date.now()): StoredAlbum {
    const clean = checkName(name);
    const checked = savedSearch.safeParse(query);
    if (!checked.success) throw new AppError('invalid-argument', `not a search to save: ${checked.error.issues.map((i) => i.message).join('; ')}`);
    const json = JSON.stringify(checked.data);
    return this.unique(clean, () => {
      const { lastInsertRowid } = this.store.db
        .prepare('INSERT INTO albums(name, query, model_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(clean, json, modelId, now, now);
      return this.get({ id: Number(lastInsertRowid) });
    });
  }

  rename(ref: AlbumRef, to: string, now = Date.now()): StoredAlbum {
    const album = this.get(ref);
    const clean = checkName(to);
    return this.unique(clean, () => {
      this.store.db.prepare('UPDATE albums SET name = ?, updated_at = ? WHERE id = ?').run(clean, now, album.id);
      return this.get({ id: album.id });
    });
  }

  remove(ref: AlbumRef): StoredAlbum {
    const album = this.get(ref);
    this.store.db.prepare('DELETE FROM albums WHERE id = ?').run(album.id);
    return album;
  }

  /** Runs a write that may hit the unique name; the constraint, not a check before it, decides (two savers at once). */
  private unique<T>(name: string, write: () => T): T {
    try {
      return write();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new AppError('invalid-argument', `an album named "${name}" already exists; choose another name or remove that album first`);
      }
      throw err;
    }
  }
}

/** The contract's rule for names (trimmed, 1–100 characters), also for callers that skip its validation (the CLI calls the app directly). */
function checkName(name: string): string {
  const r = albumName.safeParse(name);
  if (!r.success) throw new AppError('invalid-argument', r.error.issues[0]?.message ?? 'not a valid album name');
  return r.data;
}

function fromRow(row: AlbumRow): StoredAlbum {
  let query: SavedSearch | null = null;
  let queryProblem: string | null = null;
  try {
    const parsed = savedSearch.safeParse(JSON.parse(row.query));
    if (parsed.success) query = parsed.data;
    else queryProblem = `its saved search no longer reads: ${parsed.error.issues.map((i) => i.message).join('; ')}`;
  } catch (err) {
    queryProblem = `its saved search is not valid JSON (${(err as Error).message})`;
  }
  return { id: row.id, name: row.name, query, queryProblem, modelId: row.model_id, createdAt: row.created_at, updatedAt: row.updated_at };
}
