import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_PATH, schemaText } from '../../scripts/export-manifest-schema.ts';

describe('the manifest schema exported for Python', () => {
  it('is exactly the app\'s schema (re-run scripts/export-manifest-schema.ts after changing it)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(schemaText());
  });
  it('states the rules the app loads entries with', () => {
    const schema = JSON.parse(schemaText()) as { properties: { models: { items: { required: string[]; properties: Record<string, unknown> } } } };
    const entry = schema.properties.models.items;
    expect(entry.required).toEqual(expect.arrayContaining(['id', 'name', 'role', 'dim', 'image', 'text']));
    expect(Object.keys(entry.properties)).toEqual(expect.arrayContaining(['io', 'preprocess', 'tokens', 'lineage', 'requiresAcceptance']));
  });
});
