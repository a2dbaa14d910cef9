// `npm run bench`: every benchmark, one after the other, in one run.
import { runApiBench } from './api.js';
import { runStorageBench } from './storage.js';

console.log(`Nami benchmarks — ${new Date().toISOString()} — node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
await runStorageBench();
await runApiBench();
