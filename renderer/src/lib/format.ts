/** Small formatting helpers for what a person reads: counts, sizes, dates, durations. */

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** Sizes in decimal units everywhere (1 MB = 10⁶ bytes), the unit the Lab's figures use too. */
export { bytes } from '../../../main/core/units.ts';

export function date(ms: number | null | undefined): string {
  if (ms == null) return 'Unknown';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "March 2024": the month a photo was taken, the date headers of results sorted by date. */
export function monthOf(ms: number | null | undefined): string {
  if (ms == null) return 'Date unknown';
  return new Date(ms).toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '—';
  if (seconds < 1) return 'less than a second';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

export function percent(done: number, total: number): number {
  if (total <= 0) return 100;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/** 'YYYY-MM-DD' from a date input → ms at local midnight (start) or the last ms of that day (end). */
export function dayToMs(day: string, end: boolean): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return end ? new Date(y, m - 1, d + 1).getTime() - 1 : new Date(y, m - 1, d).getTime();
}
