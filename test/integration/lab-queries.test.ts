/** The lab measures fidelity on the user's own recent searches once there are enough of them. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../main/services/store/index.ts';
import { chooseQueries, rememberQuery, EVERYDAY_QUERIES } from '../../main/lab/index.ts';

describe('recent queries for the lab', () => {
  it('uses the built-in list until five searches are remembered, then the newest unique ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'leanlens-queries-'));
    const store = openStore(join(dir, 'library.db'));
    try {
      expect(chooseQueries(store).source).toBe('built-in');
      for (const q of ['red car', 'beach', '  ', 'dog', 'beach', 'sunset']) rememberQuery(store, q);
      expect(chooseQueries(store).source).toBe('built-in'); // four unique searches are too few
      rememberQuery(store, 'cat');
      rememberQuery(store, 'snow');
      const chosen = chooseQueries(store);
      expect(chosen.source).toBe('recent');
      expect(chosen.queries).toEqual(['snow', 'cat', 'sunset', 'beach', 'dog', 'red car']);
      expect(chooseQueries(store, ['given']).queries).toEqual(['given']);
      expect(EVERYDAY_QUERIES.length).toBeGreaterThan(5);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
