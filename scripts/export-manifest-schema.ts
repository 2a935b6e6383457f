/**
 * Writes models/manifest.schema.json: the app's manifest schema (zod, main/services/models/manifest.ts)
 * as JSON Schema, so the Python pipeline checks the entries it writes against the very rules the app
 * loads them with. Run after changing the schema: `npx tsx scripts/export-manifest-schema.ts`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestJsonSchema } from '../main/services/models/index.ts';

export const SCHEMA_PATH = join(fileURLToPath(new URL('..', import.meta.url)), 'models', 'manifest.schema.json');

export function schemaText(): string {
  return JSON.stringify(manifestJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_PATH, schemaText());
  console.log(`wrote ${SCHEMA_PATH}`);
}
