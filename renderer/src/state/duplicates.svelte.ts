/**
 * The Duplicates view's state: the groups at the chosen similarity, the search's progress, and
 * exports. The app compares pairs once per state of the library, so moving the similarity control
 * only regroups (fast); the slider asks again when the user lets go of it.
 */
import type { DuplicatePhoto, DuplicatesProgress, DuplicatesResult } from '../../../main/core/contract.ts';
import { errorMessage, type Client } from '../lib/client.ts';
import { downloadText } from '../lib/download.ts';

export const DEFAULT_SIMILARITY = 0.9;

export class DuplicatesState {
  similarity = $state(DEFAULT_SIMILARITY);
  result = $state<DuplicatesResult | null>(null);
  progress = $state<DuplicatesProgress | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  exportError = $state<string | null>(null);
  /** The photo shown in the preview: its group and position, or null. */
  preview = $state<{ group: number; index: number } | null>(null);

  /** Photos in groups, and how many of them are extra copies (all but one per group). */
  photoCount = $derived(this.result?.groups.reduce((n, g) => n + g.photos.length, 0) ?? 0);
  extraCopies = $derived(this.photoCount - (this.result?.groups.length ?? 0));

  private asked = 0;
  private readonly off: () => void;

  constructor(private readonly client: Client) {
    this.off = client.on('duplicates.progress', (p) => {
      if (this.busy) this.progress = p;
    });
  }

  dispose(): void {
    this.off();
  }

  async find(): Promise<void> {
    const ask = ++this.asked;
    this.busy = true;
    this.error = null;
    try {
      const result = await this.client['duplicates.find']({ similarity: this.similarity });
      // A later request (the slider moved again) wins over an earlier one that answers late.
      if (ask === this.asked) {
        this.result = result;
        this.preview = null;
      }
    } catch (e) {
      if (ask === this.asked) this.error = errorMessage(e);
    } finally {
      if (ask === this.asked) {
        this.busy = false;
        this.progress = null;
      }
    }
  }

  async stop(): Promise<void> {
    await this.client['duplicates.stop']({});
  }

  async exportAs(format: 'csv' | 'json'): Promise<void> {
    this.exportError = null;
    try {
      const text = await this.client['duplicates.export']({ similarity: this.similarity, format });
      downloadText(text, `leanlens-duplicates.${format}`, format === 'csv' ? 'text/csv' : 'application/json');
    } catch (e) {
      this.exportError = errorMessage(e);
    }
  }

  previewPhoto(): DuplicatePhoto | null {
    const p = this.preview;
    return p ? (this.result?.groups[p.group]?.photos[p.index] ?? null) : null;
  }

  step(delta: number): void {
    const p = this.preview;
    const count = p ? (this.result?.groups[p.group]?.photos.length ?? 0) : 0;
    if (p && p.index + delta >= 0 && p.index + delta < count) this.preview = { group: p.group, index: p.index + delta };
  }
}
