/**
 * What `search` and `albums save` share: turning the words and flags into a search request
 * (checked before anything is opened, so a usage error costs nothing), the --folder path into a
 * folder id, and the hits into text or JSON.
 */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Api, Folder, SearchResult } from '../core/contract.ts';
import { formatDate, parseDate, printable, table } from './format.ts';
import { intFlag, need, UsageError } from './usage.ts';

export interface SearchFlags {
  limit?: string;
  'min-score'?: string;
  all?: boolean;
  folder?: string;
  from?: string;
  to?: string;
  sort?: string;
  /** Only photos whose recognised text (OCR) matches. */
  'text-only'?: boolean;
}

export interface SearchRequest {
  args: Parameters<Api['search.text']>[0];
  /** --folder as given; resolved to a folder id against the library. */
  folder?: string;
}

export function searchRequest(words: string[], flags: SearchFlags, usage = 'search <text>'): SearchRequest {
  need(words, 1, usage);
  const given = flags['min-score'];
  // Number('') is 0: an empty value must not silently mean "no cut-off".
  const minScore = given === undefined ? undefined : given.trim() === '' ? NaN : Number(given);
  if (minScore !== undefined && !(minScore >= -1 && minScore <= 1)) throw new UsageError('--min-score must be a number between -1 and 1');
  if (minScore !== undefined && flags.all) throw new UsageError('give --min-score (a fixed cut-off) or --all (no cut-off), not both');
  if (flags.sort && flags.sort !== 'relevance' && flags.sort !== 'date') throw new UsageError('--sort must be relevance or date');
  let from: number | undefined;
  let to: number | undefined;
  try {
    from = flags.from ? parseDate(flags.from) : undefined;
    to = flags.to ? parseDate(flags.to, true) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    args: {
      text: words.join(' '),
      limit: intFlag(flags.limit, 'limit') ?? 20,
      minScore,
      relevance: flags.all ? 'all' : undefined,
      from,
      to,
      sort: flags.sort as 'relevance' | 'date' | undefined,
      ...(flags['text-only'] ? { textOnly: true } : {}),
    },
    folder: flags.folder,
  };
}

/** The library folder a --folder path names (as given or its real path), or a usage error. */
export async function folderIdOf(calls: Pick<Api, 'folders.list'>, folder: string | undefined): Promise<number | undefined> {
  if (!folder) return undefined;
  const found = await findFolder(calls, folder);
  if (!found) throw new UsageError(`--folder "${folder}" is not a library folder; see: leanlens folders list`);
  return found.id;
}

/** The library folder at a path (as given or its real path), if it is one. */
export async function findFolder(calls: Pick<Api, 'folders.list'>, path: string): Promise<Folder | undefined> {
  const wanted = resolve(path);
  const real = existsSync(wanted) ? realpathSync(wanted) : wanted;
  return (await calls['folders.list']({})).find((f) => f.path === wanted || f.path === real);
}

export function hitsJson(result: SearchResult) {
  return result.hits.map((h) => ({
    path: h.photo.path,
    score: Number(h.score.toFixed(6)),
    textMatch: h.textMatch ?? null,
    id: h.photo.id,
    takenAt: h.photo.takenAt,
    width: h.photo.width,
    height: h.photo.height,
  }));
}

export function hitsText(result: SearchResult): string {
  const summary = cutoffText(result);
  if (result.hits.length === 0) return [summary, 'No photos match. Try other words, a lower --min-score, or --all.'].filter(Boolean).join('\n');
  const rows = table(result.hits.map((h) => [h.score.toFixed(3), h.textMatch ? 'text' : '', formatDate(h.photo.takenAt), printable(h.photo.path)]));
  return summary ? `${summary}\n${rows}` : rows;
}

/** "12 relevant · 988 below the adaptive cut-off 0.731 (--all shows every photo)". */
function cutoffText(result: SearchResult): string {
  const c = result.cutoff;
  if (!c) return '';
  if (c.adaptive === null && c.mode === 'all') return `${result.total} photos match the filters, newest first`;
  if (c.mode === 'all') return `${result.total} photos, ranked (no cut-off; the adaptive one would be ${c.adaptive!.toFixed(3)})`;
  const what = c.mode === 'adaptive' ? 'the adaptive cut-off' : 'the cut-off';
  const hint = c.below > 0 ? ' (--all shows every photo)' : '';
  return `${result.total} relevant · ${c.below} below ${what}${c.minScore === null ? '' : ` ${c.minScore.toFixed(3)}`}${hint}`;
}
