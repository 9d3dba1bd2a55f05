// Worker threads start here. tsx is registered first so actor modules written in TypeScript load with no build
// step, both under `npm test` (vitest does not reach into worker threads) and in a user's app run with plain node.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
