import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repo's (or the packaged app's) `models/` folder: two levels up from this module, which is
 * main/app/ in the source, dist/app/ in the desktop build and dist/cli-bundle/ in the CLI bundle.
 */
export const BUNDLED_MODELS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');
