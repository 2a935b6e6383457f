/**
 * The demo library: adding it switches to the model trained on its photos, and removing its
 * folder puts back the model the user's own photos were searched with.
 */
import type { Api } from '../core/contract.ts';
import { readDemo } from './demo.ts';
import type { AppContext } from './context.ts';

/** Set while the demo library is in the library: its folder, and the model active before it. */
interface DemoState {
  folderId: number;
  modelBefore: string;
}

export interface DemoCalls {
  calls: Pick<Api, 'library.demo' | 'library.demoInfo'>;
  /** Called after any folder is removed. */
  folderRemoved(id: number): Promise<void>;
}

export function demoCalls(ctx: AppContext, api: Pick<Api, 'models.use' | 'folders.add'>): DemoCalls {
  const state = () => ctx.store.getSetting<DemoState | null>('demo', null);
  return {
    calls: {
      async 'library.demo'() {
        const demo = readDemo(ctx.modelsDir);
        // The demo's model understands ShapesWorld; switch to it unless it is missing or broken.
        const model = ctx.registry.entry(demo.model) && ctx.registry.verify(demo.model).length === 0 ? demo.model : null;
        const before = ctx.model.id;
        if (model && model !== before) await api['models.use']({ id: model });
        const folder = await api['folders.add']({ path: demo.photos });
        if (!state()) ctx.store.setSetting('demo', { folderId: folder.id, modelBefore: before } satisfies DemoState);
        return { folder, model, queries: demo.queries };
      },
      async 'library.demoInfo'() {
        let demo;
        try {
          demo = readDemo(ctx.modelsDir);
        } catch {
          return null; // not installed: the UI simply offers no demo
        }
        const student = ctx.registry.list().find((m) => m.lineage?.parent === demo.model && m.lineage.transform === 'distill')?.id ?? null;
        return { photos: demo.photos, labelled: demo.labelled, model: demo.model, student, queries: demo.queries };
      },
    },
    async folderRemoved(id) {
      const demo = state();
      if (demo?.folderId !== id) return;
      ctx.store.setSetting('demo', null);
      if (demo.modelBefore !== ctx.model.id && ctx.registry.entry(demo.modelBefore)) await api['models.use']({ id: demo.modelBefore });
    },
  };
}
