/** "Export list": the selected photos as CSV or JSON, a file the user keeps (no photo is touched). */
import type { TimelinePhoto } from '../../../main/core/contract.ts';

const COLUMNS = ['id', 'name', 'path', 'takenAt', 'dateSource', 'width', 'height'] as const;

function row(p: TimelinePhoto): Record<(typeof COLUMNS)[number], string | number | null> {
  return {
    id: p.id,
    name: p.name,
    path: p.path,
    takenAt: new Date(p.takenAt).toISOString(),
    dateSource: p.takenAtSource,
    width: p.width,
    height: p.height,
  };
}

/** RFC 4180: quotes around every field that has a comma, quote or line break; quotes doubled. */
function csvField(v: string | number | null): string {
  const s = v == null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function photosCsv(photos: TimelinePhoto[]): string {
  const lines = [COLUMNS.join(',')];
  for (const p of photos) {
    const r = row(p);
    lines.push(COLUMNS.map((c) => csvField(r[c])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function photosJson(photos: TimelinePhoto[]): string {
  return JSON.stringify(photos.map(row), null, 2);
}

/** Hands a text to the browser as a download (no server round trip, works in both transports). */
export function downloadText(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
