/**
 * Smart albums in the UI: the sidebar's list with live counts, and the album open at
 * `#/album/<id>`. Both are fetched again whenever the app says what albums show may have changed
 * ('albums.changed': photos indexed or removed, the model switched, an album saved elsewhere), so a
 * new photo that matches appears in the open album without a reload.
 */
import type { Album, SavedSearch, SearchHit } from '../../../main/core/contract.ts';
import { errorMessage, type Client } from '../lib/client.ts';
import { stepIndex } from '../lib/grid-window.ts';
import { oneAtATime } from '../lib/one-at-a-time.ts';

const PAGE = 1000;

/** The album id in `#/album/<id>`, or null on any other route. */
function albumIdFromHash(): number | null {
  const m = /^#\/album\/(\d+)/.exec(location.hash);
  return m ? Number(m[1]) : null;
}

export class AlbumsState {
  list = $state<Album[]>([]);
  loaded = $state(false);
  listError = $state<string | null>(null);
  /** The album the route names, and what its search returns now. */
  openId = $state<number | null>(albumIdFromHash());
  open = $state<Album | null>(null);
  /** Raw (not deeply reactive): it can hold many hits. */
  hits = $state.raw<SearchHit[]>([]);
  total = $state(0);
  loading = $state(false);
  loadingMore = $state(false);
  error = $state<string | null>(null);
  previewIndex = $state<number | null>(null);

  canLoadMore = $derived(this.hits.length < this.total);

  private seq = 0;

  constructor(private readonly client: Client) {
    window.addEventListener('hashchange', () => this.follow());
    client.on('albums.changed', () => void this.refresh());
    // Events were missed while the stream was down.
    client.onConnection((c) => c && void this.refresh());
  }

  href(id: number): string {
    return `#/album/${id}`;
  }

  /** The route changed: open the album it names (a click in the sidebar is one hash change). */
  private follow(): void {
    const id = albumIdFromHash();
    if (id === this.openId) return;
    this.openId = id;
    this.previewIndex = null;
    if (id !== null) void this.show({ keepPreview: false });
  }

  async load(): Promise<void> {
    try {
      this.list = await this.client['albums.list']({});
      this.listError = null;
    } catch (e) {
      this.listError = errorMessage(e);
    } finally {
      this.loaded = true;
    }
  }

  /**
   * Counts and the open album again, keeping the photo in the preview when it is still there. One
   * refresh at a time: events that come while one runs make one more, not one each.
   */
  refresh = oneAtATime(async () => {
    await Promise.all([this.load(), this.openId !== null ? this.show({ keepPreview: true }) : Promise.resolve()]);
  });

  /** Runs the open album's search; a refresh reloads as many hits as are loaded, so the grid does not jump. */
  async show({ keepPreview }: { keepPreview: boolean }): Promise<void> {
    const id = this.openId;
    if (id === null) return;
    const seq = ++this.seq;
    const keepPhoto = keepPreview && this.previewIndex != null ? this.hits[this.previewIndex]?.photo.id : undefined;
    if (!keepPreview) {
      this.open = this.list.find((a) => a.id === id) ?? null;
      this.hits = [];
      this.total = 0;
    }
    this.loading = true;
    try {
      const limit = keepPreview ? Math.max(PAGE, Math.min(this.hits.length, 100_000)) : PAGE;
      const { album, result } = await this.client['albums.get']({ id, limit });
      if (seq !== this.seq) return;
      this.open = album;
      this.hits = result.hits;
      this.total = result.total;
      this.error = null;
      if (keepPhoto !== undefined) {
        const i = this.hits.findIndex((h) => h.photo.id === keepPhoto);
        this.previewIndex = i >= 0 ? i : null;
      }
    } catch (e) {
      if (seq !== this.seq) return;
      this.error = errorMessage(e);
      this.hits = [];
      this.total = 0;
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    if (!this.canLoadMore || this.loadingMore || this.loading || this.openId === null) return;
    const seq = this.seq;
    this.loadingMore = true;
    try {
      const { result } = await this.client['albums.get']({ id: this.openId, limit: PAGE, offset: this.hits.length });
      if (seq !== this.seq) return;
      this.hits = [...this.hits, ...result.hits];
      this.total = result.total;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.loadingMore = false;
    }
  }

  /** Saves a search; a refused name (taken, empty) rejects with the app's message for the dialog. */
  async save(name: string, query: SavedSearch): Promise<Album> {
    const album = await this.client['albums.save']({ name, query });
    await this.load();
    return album;
  }

  /** Renames an album; a refused name rejects with the app's message. */
  async rename(id: number, to: string): Promise<void> {
    const album = await this.client['albums.rename']({ id, to });
    if (this.openId === id) this.open = { ...album, count: this.open?.count ?? album.count };
    await this.load();
  }

  async remove(id: number): Promise<void> {
    await this.client['albums.remove']({ id });
    await this.load();
  }

  step(delta: number) {
    this.previewIndex = stepIndex(this.previewIndex, delta, this.hits.length);
  }
}
