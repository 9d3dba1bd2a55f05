// Worker threads started from the source (not the compiled package, whose workers start from dist's worker.js)
// start here: tsx is registered first so the worker's own TypeScript and actor modules written in TypeScript load
// with no build step, under `npm test` (vitest does not reach into worker threads) and in apps run from the repo.
import { register } from 'tsx/esm/api';

register();
globalThis.__troupeTsx = true; // runtime/module-loader.ts: no second registration
await import('./worker.ts');
