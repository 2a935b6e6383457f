/** Text in photos (OCR): what was read in a photo, the pass's pause and resume, the per-folder switch. */
import { AppError, type Api, type Folder, type TextStatus } from '../core/contract.ts';
import { hashesById, photoById } from '../services/library/index.ts';
import { folderReadsText, photoText, setFolderReadsText, textCounts } from '../services/text/index.ts';
import { parseTextQuery, scoreText, wordsOf } from '../core/text-query.ts';
import type { AppContext } from './context.ts';

type TextCallName = 'text.get' | 'text.pause' | 'text.resume' | 'folders.setOcr';

export function textStatus(ctx: AppContext): TextStatus {
  return { ...textCounts(ctx.store, ctx.library.listFolders()), enabled: ctx.settings().ocr, progress: ctx.text.progress() };
}

/** The folders with their OCR switch: what every folder list the UI gets carries. */
export function foldersWithOcr(ctx: Pick<AppContext, 'store' | 'library'>): Folder[] {
  return ctx.library.listFolders().map((f) => ({ ...f, ocr: folderReadsText(ctx.store, f) }));
}

export function textCalls(ctx: AppContext): Pick<Api, TextCallName> {
  return {
    async 'text.get'({ photoId, query }) {
      const photo = photoById(ctx.store, photoId);
      const folder = ctx.library.listFolders().find((f) => f.id === photo.folderId);
      const readsText = folder ? folderReadsText(ctx.store, folder) : false;
      const t = photoText(ctx.store, { id: photoId, hash: hashesById(ctx.store, [photoId]).get(photoId) ?? null, folderReadsText: readsText });
      if (!query) return t;
      const matched = new Set(scoreText(parseTextQuery(query), wordsOf(t.text)).matched);
      return { ...t, words: t.words.map((w) => ({ ...w, match: wordsOf(w.text).some((x) => matched.has(x)) })) };
    },
    'text.pause': () => ctx.text.pause(),
    'text.resume': () => ctx.text.resume(),
    async 'folders.setOcr'({ id, on }) {
      const folder = foldersWithOcr(ctx).find((f) => f.id === id);
      if (!folder) throw new AppError('not-found', `no folder with id ${id} in the library`);
      setFolderReadsText(ctx.store, id, on);
      const folders = foldersWithOcr(ctx);
      ctx.emit('folders.changed', folders);
      if (on && ctx.live) ctx.text.start();
      return folders.find((f) => f.id === id)!;
    },
  };
}
