/**
 * `leanlens albums …` — smart albums from the command line, through the same calls the sidebar
 * uses. `save` takes a search exactly as `search` does (words and flags), so an album is a search
 * the user has already tried.
 */
import type { Album, Api, Folder, SavedSearch } from '../core/contract.ts';
import { count, table } from './format.ts';
import { folderIdOf, hitsJson, hitsText, searchRequest, type SearchFlags, type SearchRequest } from './search-request.ts';
import { intFlag, need, UsageError } from './usage.ts';

/** The calls the albums commands make (also asked of a running app over its local socket). */
export const ALBUM_CALLS = ['albums.list', 'albums.get', 'albums.save', 'albums.rename', 'albums.remove'] as const;
type AlbumApi = Pick<Api, (typeof ALBUM_CALLS)[number] | 'folders.list'>;

export type AlbumsRequest =
  | { sub: 'list' }
  | { sub: 'show'; name: string; limit: number }
  | { sub: 'save'; name: string; search: SearchRequest }
  | { sub: 'rename'; name: string; to: string }
  | { sub: 'remove'; name: string };

const USAGE = 'albums list|show <name>|save <name> <text…>|rename <name> <new name>|remove <name>';

/** Checks the words and flags before anything is opened, so a usage error costs nothing. */
export function albumsRequest(words: string[], flags: SearchFlags): AlbumsRequest {
  const [sub, ...rest] = words;
  switch (sub) {
    case 'list':
      return { sub };
    case 'show':
      need(rest, 1, 'albums show <name>');
      return { sub, name: rest.join(' '), limit: intFlag(flags.limit, 'limit') ?? 20 };
    case 'save': {
      need(rest, 2, 'albums save <name> <text…> [search flags]');
      const [name, ...text] = rest;
      const search = searchRequest(text, flags, 'albums save <name> <text…> [search flags]');
      return { sub, name: name!, search };
    }
    case 'rename':
      if (rest.length !== 2) throw new UsageError('usage: leanlens albums rename <name> <new name> (quote names with spaces)');
      return { sub, name: rest[0]!, to: rest[1]! };
    case 'remove':
      need(rest, 1, 'albums remove <name>');
      return { sub, name: rest.join(' ') };
    default:
      throw new UsageError(`usage: leanlens ${USAGE}`);
  }
}

/** What the command prints: one JSON document with --json, else the text. */
export interface AlbumsOutput {
  json: unknown;
  text: () => string;
}

export async function albumsCommand(calls: AlbumApi, request: AlbumsRequest, print: (out: AlbumsOutput) => number): Promise<number> {
  // The contract's values (zod) load here, not with the CLI: `--help` and usage errors stay instant.
  ({ savedSearchParts } = await import('../core/contract.ts'));
  switch (request.sub) {
    case 'list': {
      const [albums, folders] = await Promise.all([calls['albums.list']({}), calls['folders.list']({})]);
      return print({ json: albums, text: () => listText(albums, folders) });
    }
    case 'show': {
      const [{ album, result }, folders] = await Promise.all([
        calls['albums.get']({ name: request.name, limit: request.limit }),
        calls['folders.list']({}),
      ]);
      return print({
        json: { album, total: result.total, hits: hitsJson(result) },
        text: () => [headline(album, folders), ...(album.problem ? [`  ${album.problem}`] : []), hitsText(result)].join('\n'),
      });
    }
    case 'save': {
      const folderId = await folderIdOf(calls, request.search.folder);
      // Paging is not part of a saved search: the album always shows everything that matches.
      const { limit: _limit, offset: _offset, ...query } = { ...request.search.args, ...(folderId !== undefined ? { folderId } : {}) };
      const album = await calls['albums.save']({ name: request.name, query });
      return print({
        json: album,
        text: () => `Saved the smart album "${album.name}": ${countText(album)} now. See them with: leanlens albums show "${album.name}"`,
      });
    }
    case 'rename': {
      const album = await calls['albums.rename']({ name: request.name, to: request.to });
      return print({ json: album, text: () => `Renamed "${request.name}" to "${album.name}".` });
    }
    case 'remove':
      await calls['albums.remove']({ name: request.name });
      return print({ json: { removed: request.name }, text: () => `Removed the album "${request.name}" (no photo was touched).` });
  }
}

function countText(a: Album): string {
  return a.count === null ? 'no count' : `${count(a.count, 'photo')} ${a.count === 1 ? 'matches' : 'match'}`;
}

/** "color-oracle", or "color-oracle → tiny-clip" when the album now searches with another model. */
function modelText(a: Album): string {
  return a.savedWith && a.searchesWith && a.savedWith !== a.searchesWith
    ? `${a.savedWith} → ${a.searchesWith}`
    : (a.searchesWith ?? a.savedWith ?? '-');
}

let savedSearchParts: (q: SavedSearch, folderName: (id: number) => string | null) => string[];

/** The saved search in words (the contract's description, with the folder's full path). */
function searchText(a: Album, folders: Folder[]): string {
  return savedSearchParts(a.query, (id) => folders.find((f) => f.id === id)?.path ?? null).join(' ');
}

function headline(a: Album, folders: Folder[]): string {
  const model =
    a.savedWith && a.searchesWith && a.savedWith !== a.searchesWith
      ? `saved with ${a.savedWith}, now searching with ${a.searchesWith}`
      : `searching with ${a.searchesWith ?? 'no model'}`;
  return `${a.name}: ${countText(a)} · ${searchText(a, folders)} · ${model}`;
}

function listText(albums: Album[], folders: Folder[]): string {
  if (albums.length === 0) return 'No smart albums yet. Save a search as one with: leanlens albums save <name> <text…>';
  const rows = table([
    ['NAME', 'PHOTOS', 'SEARCH', 'MODEL'],
    ...albums.map((a) => [
      a.name,
      a.count === null ? '-' : String(a.count),
      searchText(a, folders),
      modelText(a) + (a.problem ? ` (${a.problem})` : ''),
    ]),
  ]);
  const moved = albums.some((a) => a.savedWith && a.searchesWith && a.savedWith !== a.searchesWith);
  return moved
    ? `${rows}\n\nsaved → now: the album was saved with one model and now searches with another; a score cut-off set for one model's scores may need changing for another.`
    : rows;
}
