/** One photo: its details, the timeline, the desktop's open / show-in-folder, and its files (thumbnail, original) by id. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, type Api } from '../core/contract.ts';
import { contentTypeOf } from '../core/mime.ts';
import { needsDisplayCopy } from '../core/photo-formats.ts';
import { photoById, photoIdByPath, resolvePhotoFile, timelineDays, timelinePage, timelinePosition } from '../services/library/index.ts';
import type { AppContext } from './context.ts';
import type { App } from './types.ts';

export function photoCalls(ctx: AppContext): Pick<
  Api,
  'photos.get' | 'photos.timeline' | 'photos.page' | 'photos.position' | 'photos.open' | 'photos.showInFolder'
> & Pick<App, 'photoFile' | 'photoIdByPath'> {
  return {
    async 'photos.get'({ id }) {
      return photoById(ctx.store, id);
    },
    async 'photos.timeline'() {
      return timelineDays(ctx.store);
    },
    async 'photos.page'({ offset, limit }) {
      return timelinePage(ctx.store, offset, limit);
    },
    async 'photos.position'({ id }) {
      return { index: timelinePosition(ctx.store, id) };
    },
    async 'photos.open'({ id }) {
      if (!ctx.shell) throw new AppError('unsupported', 'opening files works in the desktop app; in the browser use the original link');
      await ctx.shell.openPath(await resolvePhotoFile(ctx.store, id));
    },
    async 'photos.showInFolder'({ id }) {
      if (!ctx.shell) throw new AppError('unsupported', 'showing files in their folder works in the desktop app only');
      ctx.shell.showItemInFolder(await resolvePhotoFile(ctx.store, id));
    },
    async photoFile(id, kind) {
      const original = await resolvePhotoFile(ctx.store, id);
      const photo = photoById(ctx.store, id);
      if (kind === 'original') {
        if (!needsDisplayCopy(original)) return { path: original, contentType: contentTypeOf(original) ?? 'application/octet-stream' };
        // HEIC and TIFF: browsers cannot show them, so the preview gets a full-size JPEG copy.
        const copy = join(ctx.dataDir, 'display', `${id}-${Math.round(photo.mtimeMs)}.jpg`);
        if (!existsSync(copy)) {
          const { makeDisplayCopy } = await import('../services/media/index.ts');
          await makeDisplayCopy(original, copy);
        }
        return { path: copy, contentType: 'image/jpeg' };
      }
      const size = ctx.settings().thumbnailSize;
      // Named by id, size and mtime: an edited photo gets a new thumbnail, never a stale one.
      const thumb = join(ctx.dataDir, 'thumbnails', `${id}-${size}-${Math.round(photo.mtimeMs)}.jpg`);
      if (!existsSync(thumb)) {
        // sharp loads with the first thumbnail, not with the app.
        const { makeThumbnail } = await import('../services/media/index.ts');
        await makeThumbnail(original, thumb, size);
      }
      return { path: thumb, contentType: 'image/jpeg' };
    },
    photoIdByPath(path) {
      return photoIdByPath(ctx.store, path);
    },
  };
}
