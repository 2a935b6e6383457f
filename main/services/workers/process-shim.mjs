// Child-process entry for development and tests: Node cannot load TypeScript by itself, so this
// plain module registers tsx's loader in the child, then imports the real entry named by the
// first argument (a file URL). Packaged builds skip it and start the compiled .js directly.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
