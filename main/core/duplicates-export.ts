/** The groups written out for the user to act on (LeanLens itself never deletes or moves a photo). */
import type { DuplicatesResult } from './contract.ts';
import { toCsv } from './csv.ts';

/** The CSV columns: one row per photo, its group first. */
export const DUPLICATES_CSV_COLUMNS = ['group', 'position', 'path', 'size_bytes', 'width', 'height', 'taken_at', 'format', 'similarity'] as const;

export function duplicatesToCsv(result: DuplicatesResult): string {
  const rows: (string | number | null)[][] = [[...DUPLICATES_CSV_COLUMNS]];
  result.groups.forEach((g, gi) => {
    g.photos.forEach((m, pi) => {
      const p = m.photo;
      rows.push([gi + 1, pi + 1, p.path, p.size, p.width, p.height, p.takenAt === null ? null : new Date(p.takenAt).toISOString(), p.format, Number(m.similarity.toFixed(4))]);
    });
  });
  return toCsv(rows);
}

/** The groups as JSON: each photo's path, size, dimensions, date and similarity. */
export function duplicatesToJson(result: DuplicatesResult): string {
  return JSON.stringify(duplicatesJson(result), null, 2);
}

/** The JSON shape shared by the export and `leanlens duplicates --json`. */
export function duplicatesJson(result: DuplicatesResult) {
  return {
    similarity: result.similarity,
    photos: result.photos,
    modelId: result.modelId,
    groups: result.groups.map((g) =>
      g.photos.map((m) => ({
        id: m.photo.id,
        path: m.photo.path,
        size: m.photo.size,
        width: m.photo.width,
        height: m.photo.height,
        takenAt: m.photo.takenAt,
        format: m.photo.format,
        similarity: Number(m.similarity.toFixed(4)),
      })),
    ),
    unreadable: result.unreadable,
  };
}
