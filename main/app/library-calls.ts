/** The library's calls: folders, indexing progress and failures, and the status summary. */
import { AppError, type Api, type Status } from '../core/contract.ts';
import { photoCounts, photoIdsInFolder } from '../services/library/index.ts';
import { setFolderReadsText } from '../services/text/index.ts';
import type { AppContext } from './context.ts';
import { foldersWithOcr, textStatus } from './text-calls.ts';

type LibraryCallName =
  | 'folders.list'
  | 'folders.add'
  | 'folders.remove'
  | 'folders.confirmDeletions'
  | 'folders.restoreDeletions'
  | 'index.status'
  | 'index.pause'
  | 'index.resume'
  | 'index.failures';

export function status(ctx: AppContext): Status {
  const model = ctx.model.open?.modelId ?? ctx.model.id;
  const databaseCheck = ctx.check.describe();
  return {
    ...photoCounts(ctx.store),
    ...(databaseCheck ? { databaseCheck } : {}),
    errors: ctx.library.failures().map((f) => ({ path: f.path, reason: f.reason })),
    model,
    testModel: ctx.registry.entry(model)?.hidden === true,
    // The provider is only known once a session ran; between runs report the last one used.
    execution: ctx.model.execution(),
    progress: ctx.model.progress(),
    switching: ctx.model.switchProgress(),
    dataDir: ctx.dataDir,
    text: textStatus(ctx),
  };
}

/** `onFolderRemoved` lets the demo put back the model used before it when its folder goes. */
export function libraryCalls(ctx: AppContext, onFolderRemoved: (id: number) => Promise<void>): Pick<Api, LibraryCallName> {
  const { library } = ctx;
  return {
    async 'folders.list'() {
      return foldersWithOcr(ctx);
    },
    async 'folders.add'({ path, ocr }) {
      await ctx.check.passed();
      // addFolder scans the new folder itself; its 'changed' events wake the indexer.
      const folder = await library.addFolder(path);
      if (ocr !== undefined) setFolderReadsText(ctx.store, folder.id, ocr);
      if (ctx.live) {
        (await ctx.model.loaded()).indexer.start();
        await library.watch();
      }
      return foldersWithOcr(ctx).find((f) => f.id === folder.id) ?? folder;
    },
    async 'folders.remove'({ id }) {
      await ctx.check.passed();
      const ids = photoIdsInFolder(ctx.store, id);
      library.removeFolder(id);
      ctx.model.forget(ids);
      ctx.emit('library.changed', { added: [], changed: [], removed: ids });
      await onFolderRemoved(id);
    },
    async 'folders.confirmDeletions'({ id }) {
      await ctx.check.passed();
      library.confirmDeletions(id);
    },
    async 'folders.restoreDeletions'({ id }) {
      await ctx.check.passed();
      await library.restoreDeletions(id);
      const folder = library.listFolders().find((f) => f.id === id);
      if (!folder) throw new AppError('not-found', `No library folder with id ${id}`);
      return folder;
    },
    async 'index.status'() {
      return status(ctx);
    },
    async 'index.pause'() {
      await ctx.model.session();
      ctx.model.pause();
      return ctx.model.progress();
    },
    async 'index.resume'() {
      await ctx.model.session();
      ctx.model.resume();
      return ctx.model.progress();
    },
    async 'index.failures'() {
      return library.failures();
    },
  };
}
