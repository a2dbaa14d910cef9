// `npm run bench`: every benchmark, one after the other, in one run.
import { runApiBench } from './api.js';
import { runStorageBench } from './storage.js';
import { runManagedFieldsBench } from './managed-fields.js';
import { runCrdRulesBench } from './crd-rules.js';
import { runWritePathBench } from './write-path.js';
import { runSchedulerBench } from './scheduler.js';
import { runPodsBench } from './pods.js';

console.log(`Nami benchmarks — ${new Date().toISOString()} — node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
await runStorageBench();
await runManagedFieldsBench();
await runCrdRulesBench();
await runWritePathBench();
await runApiBench();
await runSchedulerBench();
await runPodsBench();
