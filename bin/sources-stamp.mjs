// What the compiled CLI was built from: the number of files under main/ and the newest
// modification time among them. bin/leanlens.mjs compares it with the tree at every start, so an
// edit made after the build runs from source instead of silently running the old build.
// Shared by the build (scripts/build-cli.mjs) and the launcher; plain JS, Node built-ins only.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** { files, newestMs } of every file under `dir`; null when `dir` does not exist (an installed package without sources). */
export function sourcesStamp(dir) {
  let files = 0;
  let newestMs = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        const m = statSync(p).mtimeMs;
        if (m > newestMs) newestMs = m;
      }
    }
  };
  try {
    walk(dir);
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
  return { files, newestMs };
}

/** Whether a build stamp still describes the sources: same files, none modified since. */
export function stampMatches(built, now) {
  if (!now) return true;
  return Boolean(built) && built.files === now.files && now.newestMs <= built.newestMs;
}
