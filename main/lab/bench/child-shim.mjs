// Entry of the lab's measuring child process in development and tests: registers tsx's loader,
// then runs the TypeScript child given as the first argument. Packaged builds start child.js.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
