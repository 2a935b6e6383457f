/**
 * One unit for file sizes everywhere (the app, the CLI, the lab): decimal, 1 kB = 1,000 bytes and
 * 1 MB = 10⁶ bytes, as operating systems' file browsers mostly show them.
 */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log10(n) / 3));
  const v = n / 1000 ** i;
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
