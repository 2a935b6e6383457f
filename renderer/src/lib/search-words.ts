/**
 * The Search view's words that depend on the situation: a placeholder that fits the model in use,
 * and the relevance slider's keyboard steps.
 */
import type { ModelInfo } from '../../../main/core/contract.ts';

/** Queries the active model can answer: the demo's own, colours for the colour oracle, else free text. */
export function placeholderFor(model: Pick<ModelInfo, 'id' | 'testModel'> | null, demoQueries: string[]): string {
  if (demoQueries.length >= 2) return `Try “${demoQueries[0]}” or “${demoQueries[1]}”…`;
  if (model?.testModel && /colou?r/i.test(model.id)) return 'Type a colour — “red”, “teal”, “orange”…';
  if (model?.testModel) return 'Type anything — a test model ranks photos without understanding them';
  return 'Describe a photo — “red flowers”, “a dog on the beach”…';
}

/**
 * Where a key moves the relevance cut-off: arrows by a twentieth of the score range, Page Up/Down
 * by a fifth, Home to "show all", End to the best match (which stays visible). null: not ours.
 */
export function sliderStep(key: string, value: number, range: { min: number; max: number }): number | null {
  const span = range.max - range.min;
  if (span <= 0) return null;
  const clamp = (v: number) => Math.max(range.min, Math.min(range.max, Math.round(v * 1000) / 1000));
  switch (key) {
    case 'ArrowRight':
    case 'ArrowUp':
      return clamp(value + span / 20);
    case 'ArrowLeft':
    case 'ArrowDown':
      return clamp(value - span / 20);
    case 'PageUp':
      return clamp(value + span / 5);
    case 'PageDown':
      return clamp(value - span / 5);
    case 'Home':
      return range.min;
    case 'End':
      return range.max;
    default:
      return null;
  }
}
