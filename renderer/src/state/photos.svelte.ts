/**
 * The Photos timeline's state: the day counts (one call), pages of photos loaded as they come
 * near the screen, the selection, and the photo open in the viewer. Pages are cached by number;
 * a library change reloads the counts and fetches the pages on screen again (showing the old ones
 * meanwhile, so tiles do not flash empty while a folder indexes).
 */
import type { TimelineDay, TimelinePhoto } from '../../../main/core/contract.ts';
import { errorMessage, type Client } from '../lib/client.ts';
import { PageCache } from '../lib/page-cache.ts';
import { EMPTY_SELECTION, selectClick, selectedIndices, type Selection } from '../lib/selection.ts';

export const PAGE_SIZE = 500;

export class PhotosState {
  days = $state.raw<TimelineDay[]>([]);
  total = $state(0);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Bumped when a page arrives: the layout reads it to take the new aspect ratios. */
  version = $state(0);
  selection = $state.raw<Selection>(EMPTY_SELECTION);
  /** Timeline index of the photo in the viewer, or null. */
  open = $state<number | null>(null);

  private pages = new PageCache<TimelinePhoto>(
    PAGE_SIZE,
    (offset, limit) => this.client['photos.page']({ offset, limit }),
    () => this.version++,
    (e) => (this.error = errorMessage(e)),
  );
  private generation = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly client: Client) {
    client.on('library.changed', () => {
      if (this.refreshTimer) return;
      // Indexing sends many small changes: refresh at most every 1.5 s.
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = null;
        void this.load();
      }, 1500);
    });
  }

  async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const t = await this.client['photos.timeline']({});
      if (generation !== this.generation) return;
      this.pages.invalidate();
      this.days = t.days;
      this.total = t.total;
      this.error = null;
      // A selection of positions means nothing once the order changed underneath it.
      if (this.selection.items.size) this.selection = EMPTY_SELECTION;
      this.version++;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.loaded = true;
    }
  }

  /** Photo `i` if its page is loaded (the tile shows a placeholder until then). */
  photo(i: number): TimelinePhoto | null {
    return this.pages.get(i);
  }

  /** Loads the pages holding photos `first` … `last - 1`. */
  ensure(first: number, last: number): Promise<void> {
    return this.pages.ensure(first, last, this.total);
  }

  /** The selected photos in timeline order, loading their pages first (a Shift range may span unloaded ones). */
  async selectedPhotos(): Promise<TimelinePhoto[]> {
    const idx = selectedIndices(this.selection);
    if (!idx.length) return [];
    await this.ensure(idx[0]!, idx.at(-1)! + 1);
    return idx.map((i) => this.photo(i)).filter((p): p is TimelinePhoto => p != null);
  }

  click(index: number, mods: { shift: boolean; toggle: boolean }): void {
    this.selection = selectClick(this.selection, index, mods);
  }

  clearSelection(): void {
    this.selection = EMPTY_SELECTION;
  }

  /** Where photo `id` is in the timeline (a shared link or a reload opens it), or null. */
  async positionOf(id: number): Promise<number | null> {
    return (await this.client['photos.position']({ id })).index;
  }
}
