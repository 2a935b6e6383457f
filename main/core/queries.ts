/**
 * Which queries stand for "what this user searches for": the user's recent searches (remembered
 * on every search, newest first), else a built-in list of everyday photo searches. The lab measures
 * fidelity on them; the CLI's `lab compare` defaults to them. Pure: the settings store is passed in.
 */

/** The part of the settings store this needs (the store service's `Store` is one). */
export interface SettingsStore {
  getSetting<T>(key: string, fallback: T): T;
  setSetting(key: string, value: unknown): void;
}

export const EVERYDAY_QUERIES: readonly string[] = [
  'a dog playing in the park', 'a cat sleeping on a sofa', 'sunset over the sea', 'a beach with people',
  'birthday cake with candles', 'a child on a bicycle', 'snowy mountains', 'a city street at night',
  'food on a plate', 'a group photo of friends', 'a wedding', 'a car parked on the street',
  'flowers in a garden', 'a forest path', 'a bowl of fruit', 'people at a restaurant table',
  'a train at a station', 'an airplane in the sky', 'a baby smiling', 'a red car',
  'a living room', 'a kitchen', 'a bird on a branch', 'a horse in a field',
  'a boat on a lake', 'a person skiing', 'a football match', 'a cup of coffee',
  'a laptop on a desk', 'a selfie',
];

export const MAX_RECENT_QUERIES = 30;

/** Records a search so the lab measures fidelity on what this user really looks for (newest first, unique). */
export function rememberQuery(store: SettingsStore, text: string): void {
  const query = text.trim();
  if (!query) return;
  const recent = store.getSetting<unknown>('recentQueries', []);
  const previous = Array.isArray(recent) ? recent.filter((q): q is string => typeof q === 'string' && q !== query) : [];
  store.setSetting('recentQueries', [query, ...previous].slice(0, MAX_RECENT_QUERIES));
}

export function chooseQueries(store: SettingsStore, given?: readonly string[]): { queries: string[]; source: 'given' | 'recent' | 'built-in' } {
  if (given && given.length) return { queries: [...given], source: 'given' };
  const recent = store.getSetting<unknown>('recentQueries', null);
  if (Array.isArray(recent)) {
    const texts = [...new Set(recent.filter((q): q is string => typeof q === 'string' && q.trim().length > 0))].slice(0, MAX_RECENT_QUERIES);
    if (texts.length >= 5) return { queries: texts, source: 'recent' };
  }
  return { queries: [...EVERYDAY_QUERIES], source: 'built-in' };
}
