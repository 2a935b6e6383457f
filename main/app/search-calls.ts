/**
 * Search calls: text and "more like this" (by photo or by an image the user brings). Each text
 * query is announced through `onSearched`, so features that learn from queries (the lab's recent
 * queries) listen without search depending on them.
 */
import { AppError, type Api, type QueryUnderstood, type SearchArgs, type SearchResult } from '../core/contract.ts';
import { QuerySyntaxError, parseQuery, restrictionOf, type ParsedQuery } from '../core/query-language.ts';
import { parseTextQuery } from '../core/text-query.ts';
import { meanDirection } from '../core/metrics.ts';
import { photoById } from '../services/library/index.ts';
import type { ModelSession } from './active-model.ts';
import type { AppContext } from './context.ts';

// Search (hnswlib through the ANN service) and media (sharp) load on the first search, not when
// the app opens: `status` and the other calls never need them.
const searchService = () => import('../services/search/index.ts');

/** Encoders whose text tower has been asked to load. */
const textTowerAsked = new WeakSet<object>();

export function searchCalls(ctx: AppContext, onSearched: (text: string) => void): Pick<Api, 'search.text' | 'search.similar'> {
  return {
    async 'search.text'(args) {
      const { searchQuery } = await searchService();
      const parsed = parse(args.text);
      const texts = [...parsed.positives, ...parsed.negatives].map((t) => t.text);
      // `use` keeps this session open until the search is answered, even if a switch is asked for meanwhile.
      const result = await ctx.model.use(async (s) => {
        // A first query (a `leanlens search` process) has the encoder load the text tower while this
        // thread reads the vocabulary, instead of one after the other. Requests are taken in order,
        // so the encode below waits for the load; a failed load fails the encode too.
        if (texts.length && !textTowerAsked.has(s.encoder)) {
          textTowerAsked.add(s.encoder);
          s.encoder.load('text').catch(() => undefined);
        }
        const vectors = texts.length ? await s.encoder.encodeTexts(texts.map((t) => ctx.tokenizer.encode(t))) : [];
        const weighted = (terms: ParsedQuery['positives'], at: number) => terms.map((t, i) => ({ vector: vectors[at + i]!, weight: t.weight }));
        return searchQuery(
          { store: ctx.store, index: s.index, modelId: s.modelId },
          weighted(parsed.positives, 0),
          weighted(parsed.negatives, parsed.positives.length),
          {
            ...pageArgs(args),
            filter: filterOf(parsed, args),
            minScore: args.minScore,
            all: args.relevance === 'all',
            // Text in photos (OCR) is matched against the words searched for, not the filters or
            // negatives; quoted phrases stay quoted, so their words must appear in that order.
            textQuery: parseTextQuery(parsed.positives.map((t) => t.quotedText ?? t.text).join(' ')),
          },
        );
      });
      // Features that learn from queries (the lab's recent queries) get the text searched for, without filters or negatives.
      const searched = parsed.positives.map((t) => t.text).join(' ');
      if (searched) onSearched(searched);
      return { ...result, query: understood(parsed) };
    },
    'search.similar'(args): Promise<SearchResult> {
      return ctx.model.use((s) => similar(ctx, s, args));
    },
  };
}

/** "More like this": a library photo's stored vector, or the vector of an image the user brings. */
async function similar(ctx: AppContext, s: ModelSession, args: Parameters<Api['search.similar']>[0]): Promise<SearchResult> {
  const { photoVector, searchByVector } = await searchService();
  let vector: Float32Array | null;
  const excludeIds: number[] = [];
  const ids = args.photoIds ?? (args.photoId !== undefined ? [args.photoId] : null);
  if (ids) {
    const vectors = ids.map((id) => {
      photoById(ctx.store, id);
      const v = photoVector(ctx.store, id, s.modelId);
      if (!v) throw new AppError('failed', `${ids.length > 1 ? `photo ${id} is` : 'this photo is'} not indexed yet; try again when indexing has finished`);
      return v;
    });
    vector = meanDirection(vectors);
    if (!vector) throw new AppError('invalid-argument', 'these photos point in opposite directions; choose fewer or other photos');
    excludeIds.push(...ids);
  } else {
    const { preparePhotoBuffer } = await import('../services/media/index.ts');
    const prepared = await preparePhotoBuffer(Buffer.from(args.imageBase64!, 'base64'), s.encoder.model.preprocess).catch((err: Error) => {
      // The media layer's reason already starts "not a readable image: "; say it once. Which file
      // (chosen, dropped, a path) is for the caller to say: only it knows how the image came.
      throw new AppError('invalid-argument', `Not a readable image: ${err.message.replace(/^not a readable image:\s*/i, '')}`);
    });
    [vector] = await s.encoder.encodeImages(prepared.pixels, 1);
  }
  return searchByVector({ store: ctx.store, index: s.index, modelId: s.modelId }, vector!, { ...args, excludeIds });
}

/** The search box parsed; a syntax error is the caller's to fix, so it crosses as invalid-argument. */
function parse(text: string): ParsedQuery {
  try {
    return parseQuery(text);
  } catch (err) {
    if (err instanceof QuerySyntaxError) throw new AppError('invalid-argument', err.message);
    throw err;
  }
}

function pageArgs(args: SearchArgs) {
  return { limit: args.limit, offset: args.offset, sort: args.sort, textOnly: args.textOnly };
}

/** The query's filters joined with the call's own (folder id, date range): both must hold. */
function filterOf(parsed: ParsedQuery, args: SearchArgs) {
  let r;
  try {
    r = restrictionOf([
      ...parsed.filters,
      { kind: 'date', from: args.from ?? null, to: args.to ?? null, label: 'the date range', span: { start: 0, end: 0 } },
    ]);
  } catch (err) {
    throw new AppError('invalid-argument', (err as Error).message);
  }
  return { folderId: args.folderId, from: r.from, to: r.to, folderNames: r.folderNames, formats: r.formats, cameras: r.cameras };
}

function understood(q: ParsedQuery): QueryUnderstood {
  return {
    positives: q.positives,
    negatives: q.negatives,
    chips: q.filters.map((f) => ({ kind: f.kind, label: f.label, start: f.span.start, end: f.span.end })),
  };
}
