/**
 * The Search view's state: the query, filters, sort, the loaded results, the relevance cut-off
 * (applied here, on the loaded results, so the slider is instant), recent queries, "more like
 * this", and live refresh when the library changes.
 */
import { localDay, type Photo, type SavedSearch, type SearchHit, type SearchResult } from '../../../main/core/contract.ts';
import { tick } from 'svelte';
import { errorMessage, type Client } from '../lib/client.ts';
import { imageSearchError, type FileOrigin } from '../lib/errors.ts';
import { dayToMs } from '../lib/format.ts';
import { stepIndex } from '../lib/grid-window.ts';

export type SearchSource =
  | { kind: 'text' }
  | { kind: 'photo'; photoId: number; label: string }
  | { kind: 'photos'; photoIds: number[]; label: string }
  | { kind: 'image'; imageBase64: string; label: string; origin: FileOrigin };

const PAGE = 1000;
const RECENT_KEY = 'leanlens.recentQueries';
const DEBOUNCE_MS = 250;

function loadRecent(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string').slice(0, 8) : [];
  } catch {
    return [];
  }
}

export class SearchState {
  query = $state('');
  source = $state<SearchSource>({ kind: 'text' });
  /** Results as loaded; raw (not deeply reactive) because it can hold 100,000 hits. */
  hits = $state.raw<SearchHit[]>([]);
  total = $state(0);
  tookMs = $state(0);
  /** What the user waited: from Enter (or the pause after typing) to the first tiles on screen. */
  waitedMs = $state(0);
  loading = $state(false);
  loadingMore = $state(false);
  error = $state<string | null>(null);
  /** Whether any search has completed for the current input (for the empty states). */
  searched = $state(false);
  minScore = $state(-1);
  folderId = $state<number | null>(null);
  fromDay = $state('');
  toDay = $state('');
  sort = $state<'relevance' | 'date'>('relevance');
  recent = $state<string[]>(loadRecent());
  /** Index into `visible` of the photo open in the preview, or null. */
  previewIndex = $state<number | null>(null);

  scoreRange = $derived.by(() => {
    if (this.hits.length === 0) return { min: 0, max: 1 };
    let min = Infinity;
    let max = -Infinity;
    for (const h of this.hits) {
      if (h.score < min) min = h.score;
      if (h.score > max) max = h.score;
    }
    // Whole thousandths, the slider's step: the browser snaps range values to them. The top is the
    // best score rounded down, so the slider's far end still shows the best match: it cannot hide everything.
    min = Math.floor(min * 1000) / 1000;
    max = Math.floor(max * 1000) / 1000;
    return { min, max: Math.max(min, max) };
  });
  /** From later than To: no photo can match; the view flags the field instead of searching. */
  datesReversed = $derived(this.fromDay !== '' && this.toDay !== '' && this.fromDay > this.toDay);
  hasFilters = $derived(this.folderId != null || this.fromDay !== '' || this.toDay !== '');
  // A photo whose text matches the query is relevant whatever its score: the cut-off keeps it.
  visible = $derived(this.minScore <= this.scoreRange.min ? this.hits : this.hits.filter((h) => h.textMatch || h.score >= this.minScore));
  hiddenByCutoff = $derived(this.hits.length - this.visible.length);
  canLoadMore = $derived(this.source.kind === 'text' && this.hits.length < this.total);
  /** A text search has answered: it can be saved as a smart album. */
  canSave = $derived(this.source.kind === 'text' && this.searched && !this.error && this.query.trim() !== '');

  private timer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;

  constructor(private readonly client: Client) {
    client.on('library.changed', () => this.refreshSoon());
  }

  /** Typing: search after a short pause. */
  input(text: string): void {
    this.query = text;
    this.source = { kind: 'text' };
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run({ resetCutoff: true }), DEBOUNCE_MS);
  }

  /** Enter: search now, and remember the query. */
  submit(): void {
    if (this.timer) clearTimeout(this.timer);
    this.source = { kind: 'text' };
    this.remember(this.query);
    void this.run({ resetCutoff: true });
  }

  useRecent(q: string): void {
    this.query = q;
    this.submit();
  }

  clearRecent(): void {
    this.recent = [];
    localStorage.removeItem(RECENT_KEY);
  }

  moreLike(photo: Photo): void {
    this.previewIndex = null;
    this.source = { kind: 'photo', photoId: photo.id, label: photo.name };
    void this.run({ resetCutoff: true });
  }

  /** "More like these": photos near the selection's mean direction (from the Photos view). */
  moreLikeThese(photoIds: number[], label: string): void {
    this.previewIndex = null;
    this.source = photoIds.length === 1 ? { kind: 'photo', photoId: photoIds[0]!, label } : { kind: 'photos', photoIds, label };
    void this.run({ resetCutoff: true });
  }

  byImage(imageBase64: string, label: string, origin: FileOrigin): void {
    this.previewIndex = null;
    this.source = { kind: 'image', imageBase64, label, origin };
    void this.run({ resetCutoff: true });
  }

  backToText(): void {
    this.source = { kind: 'text' };
    void this.run({ resetCutoff: true });
  }

  /**
   * The search on screen as a smart album keeps it: the text as typed, the filters, the order, and
   * the cut-off when the slider hides photos (the album then shows exactly what is visible here).
   */
  savedSearch(): SavedSearch {
    const f = this.filters();
    return {
      text: this.query.trim(),
      ...(f.folderId != null ? { folderId: f.folderId } : {}),
      ...(f.from != null ? { from: f.from } : {}),
      ...(f.to != null ? { to: f.to } : {}),
      ...(this.sort !== 'relevance' ? { sort: this.sort } : {}),
      ...(this.hiddenByCutoff > 0 ? { minScore: this.minScore } : {}),
    };
  }

  /** Opens a saved search here, to refine it (and save it again under another name). */
  async useSaved(q: SavedSearch): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.source = { kind: 'text' };
    this.query = q.text;
    this.folderId = q.folderId ?? null;
    this.fromDay = q.from != null ? localDay(q.from) : '';
    this.toDay = q.to != null ? localDay(q.to) : '';
    this.sort = q.sort ?? 'relevance';
    await this.run({ resetCutoff: true });
    if (q.minScore !== undefined) this.minScore = Math.max(q.minScore, this.scoreRange.min);
  }

  /** Filters and sort changed: results change, the cut-off stays. */
  filtersChanged(): void {
    void this.run({ resetCutoff: false });
  }

  clearFilters(): void {
    this.folderId = null;
    this.fromDay = '';
    this.toDay = '';
    this.filtersChanged();
  }

  private remember(q: string) {
    const t = q.trim();
    if (!t) return;
    this.recent = [t, ...this.recent.filter((r) => r !== t)].slice(0, 8);
    try {
      localStorage.setItem(RECENT_KEY, JSON.stringify(this.recent));
    } catch {
      /* private mode: recent queries just are not kept */
    }
  }

  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Photos were added or removed: re-run what is on screen, keeping the cut-off and scroll. */
  refreshSoon(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      if (this.hasInput) void this.run({ resetCutoff: false, keepPreview: true });
    }, 200);
  }

  get hasInput(): boolean {
    return this.source.kind !== 'text' || this.query.trim().length > 0;
  }

  private filters() {
    return {
      folderId: this.folderId,
      from: dayToMs(this.fromDay, false),
      to: dayToMs(this.toDay, true),
    };
  }

  private async fetch(offset: number, limit: number): Promise<SearchResult> {
    const s = this.source;
    if (s.kind === 'photo') return this.client['search.similar']({ photoId: s.photoId, limit });
    if (s.kind === 'photos') return this.client['search.similar']({ photoIds: s.photoIds, limit });
    if (s.kind === 'image') return this.client['search.similar']({ imageBase64: s.imageBase64, limit });
    return this.client['search.text']({ text: this.query.trim(), limit, offset, sort: this.sort, ...this.filters() });
  }

  async run(opts: { resetCutoff: boolean; keepPreview?: boolean }): Promise<void> {
    const seq = ++this.seq;
    // No input: no results yet. From later than To: nothing can match, and the From field says
    // why — no round trip for an empty answer.
    if (!this.hasInput || this.datesReversed) {
      this.hits = [];
      this.total = 0;
      this.error = null;
      this.searched = this.hasInput;
      this.loading = false;
      return;
    }
    this.loading = true;
    const started = performance.now();
    const keepId = opts.keepPreview && this.previewIndex != null ? this.visible[this.previewIndex]?.photo.id : undefined;
    try {
      // A live refresh reloads as many as are already loaded, so the grid does not jump back.
      const limit = opts.keepPreview ? Math.max(PAGE, Math.min(this.hits.length, 100_000)) : PAGE;
      let r = await this.fetch(0, limit);
      if (seq !== this.seq) return;
      r = this.applyClientFilters(r);
      this.hits = r.hits;
      this.total = r.total;
      this.tookMs = r.tookMs;
      this.error = null;
      this.searched = true;
      if (opts.resetCutoff) this.minScore = this.scoreRange.min;
      if (!opts.keepPreview) void this.timeFirstPaint(seq, started);
      if (keepId !== undefined) {
        const i = this.visible.findIndex((h) => h.photo.id === keepId);
        this.previewIndex = i >= 0 ? i : null;
      } else if (!opts.keepPreview) {
        this.previewIndex = null;
      }
    } catch (e) {
      if (seq !== this.seq) return;
      const s = this.source;
      this.error = s.kind === 'image' ? imageSearchError(errorMessage(e), s.origin, s.label) : errorMessage(e);
      this.hits = [];
      this.total = 0;
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  /** The header's time: the answer rendered (tick) and painted (next frame), since the search began. */
  private async timeFirstPaint(seq: number, started: number): Promise<void> {
    await tick();
    await new Promise((r) => requestAnimationFrame(r));
    if (seq === this.seq) this.waitedMs = performance.now() - started;
  }

  /** search.similar has no filters or sort in the contract; apply them to its results here. */
  private applyClientFilters(r: SearchResult): SearchResult {
    if (this.source.kind === 'text') return r;
    const f = this.filters();
    let hits = r.hits.filter(
      (h) =>
        (f.folderId == null || h.photo.folderId === f.folderId) &&
        (f.from == null || (h.photo.takenAt ?? 0) >= f.from) &&
        (f.to == null || (h.photo.takenAt ?? 0) <= f.to),
    );
    if (this.sort === 'date') hits = [...hits].sort((a, b) => (b.photo.takenAt ?? 0) - (a.photo.takenAt ?? 0));
    return { ...r, hits, total: hits.length };
  }

  async loadMore(): Promise<void> {
    if (!this.canLoadMore || this.loadingMore || this.loading) return;
    const seq = this.seq;
    this.loadingMore = true;
    try {
      const r = await this.fetch(this.hits.length, PAGE);
      if (seq !== this.seq) return;
      this.hits = [...this.hits, ...r.hits];
      this.total = r.total;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.loadingMore = false;
    }
  }

  openPreview(i: number) {
    this.previewIndex = i;
  }
  closePreview() {
    this.previewIndex = null;
  }
  step(delta: number) {
    this.previewIndex = stepIndex(this.previewIndex, delta, this.visible.length);
  }
}
