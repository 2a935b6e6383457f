import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/**
 * The platform's app-data folder, the same one Electron's `app.getPath('userData')` gives for
 * "LeanLens", so the CLI, the headless server and the desktop app share one library by default.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LEANLENS_DATA) return env.LEANLENS_DATA;
  const home = homedir();
  switch (platform()) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'LeanLens');
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'LeanLens');
    default:
      return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'LeanLens');
  }
}
