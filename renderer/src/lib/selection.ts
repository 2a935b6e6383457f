/**
 * Multi-select as in a file manager: a click selects one, Ctrl/Cmd-click toggles one, Shift-click
 * selects the range from the last clicked photo (adding to the selection with Ctrl/Cmd held too).
 * Indices are timeline positions, so a range works across photos not loaded yet.
 */
export interface Selection {
  /** Selected indices. */
  items: ReadonlySet<number>;
  /** Where the next Shift-click range starts. */
  anchor: number | null;
}

export const EMPTY_SELECTION: Selection = { items: new Set(), anchor: null };

export function selectClick(sel: Selection, index: number, mods: { shift: boolean; toggle: boolean }): Selection {
  if (mods.shift && sel.anchor != null) {
    const items = new Set(mods.toggle ? sel.items : []);
    if (!mods.toggle) for (const i of sel.items) items.add(i);
    const [a, b] = sel.anchor < index ? [sel.anchor, index] : [index, sel.anchor];
    for (let i = a; i <= b; i++) items.add(i);
    return { items, anchor: sel.anchor };
  }
  if (mods.toggle || sel.items.size > 0) {
    const items = new Set(sel.items);
    if (items.has(index)) items.delete(index);
    else items.add(index);
    return { items, anchor: index };
  }
  return { items: new Set([index]), anchor: index };
}

/** Selected indices in timeline order. */
export function selectedIndices(sel: Selection): number[] {
  return [...sel.items].sort((a, b) => a - b);
}
