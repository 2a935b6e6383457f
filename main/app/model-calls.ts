/** Model calls: the list, the switch, download and import, and the settings that shape the encoder. */
import { join } from 'node:path';
import { AppError, type Api } from '../core/contract.ts';
import type { AppContext } from './context.ts';

type ModelCallName = 'models.list' | 'models.use' | 'models.remove' | 'models.download' | 'models.cancelDownload' | 'models.import' | 'settings.get' | 'settings.set';

export function modelCalls(ctx: AppContext, saveSettings: (patch: Parameters<Api['settings.set']>[0]) => void): Pick<Api, ModelCallName> {
  const infoOf = (id: string) => ctx.models().find((m) => m.id === id)!;
  return {
    async 'models.list'() {
      return ctx.models();
    },
    async 'models.use'({ id, now }) {
      const problems = ctx.registry.verify(id);
      if (problems.length) throw new AppError('failed', `model "${id}" cannot be used: ${problems.join('; ')}`);
      await ctx.model.switchTo(id, { now });
      ctx.emit('models.changed', ctx.models());
      return infoOf(id);
    },
    async 'models.remove'({ id }) {
      if (!ctx.registry.entry(id)) throw new AppError('not-found', `unknown model "${id}"`);
      if (id === ctx.model.id || id === ctx.model.switchingTo) {
        throw new AppError('invalid-argument', `"${id}" is the model search uses (or is switching to); switch to another model first.`);
      }
      try {
        ctx.registry.remove(id);
      } catch (err) {
        throw new AppError('invalid-argument', (err as Error).message);
      }
      // Its vectors go too: they take space and no search can use them without the model.
      // (The ANN service loads hnswlib: imported here, not with the app, so `status` stays light.)
      const { dropModelIndex } = await import('../services/ann/index.ts');
      await dropModelIndex(ctx.store, join(ctx.dataDir, 'index'), id);
      const models = ctx.models();
      ctx.emit('models.changed', models);
      return models;
    },
    async 'models.download'({ id, acceptLicense }) {
      const info = await ctx.registry.download(id, { acceptLicense, onProgress: (p) => ctx.emit('models.download', p) });
      ctx.emit('models.changed', ctx.models());
      return infoOf(info.id);
    },
    async 'models.cancelDownload'({ id }) {
      return { cancelled: ctx.registry.cancelDownload(id) };
    },
    async 'models.import'({ path, variant }) {
      const info = await ctx.registry.importFolder(path, { variant });
      ctx.emit('models.changed', ctx.models());
      return infoOf(info.id);
    },
    async 'settings.get'() {
      return ctx.settings();
    },
    async 'settings.set'(patch) {
      saveSettings(patch);
      // Threads and GPU take effect now, without a restart.
      await ctx.model.applySettings();
      return ctx.settings();
    },
  };
}
