// The API server's own cost per write, without sockets or TLS: creates and
// label patches of Pods (as `node dist/bench/api.js writes` sends them from
// wrk), and first patches of pods not read since their create (as a pod's
// binding or first status update comes: the cache holds such a pod as text,
// so its first update parses it), handed straight to the server's request
// handler (64 at a time, as from 64 clients), through the whole write path (routing,
// authentication, body decoding, defaulting, admission, validation, field
// ownership, the store and its watch cache, the response) on the sqlite store.
// The main thread's CPU per write, median of 5 rounds: the figure to compare
// two builds by, since the socket and TLS costs the wrk figures carry (about
// a third) are the same for both. Then the JS heap bytes each write
// allocates (bench/allocation.ts), which vary far less between runs than any
// timing. Run alone with `node dist/bench/write-path.js`.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startApiServer } from '../src/apiserver/start.js';
import type { User } from '../src/apiserver/authn/index.js';
import { openBackend } from '../src/storage/open.js';
import { measureCpu, percentile } from './common.js';
import { allocatedPerRequest, allocationRow } from './allocation.js';

const token = 'write-path-bench';
const admin: User = { name: 'nami-bench', groups: ['system:masters'] };

/** A connection that takes whatever is written to it, as a client that reads every response. */
function sink(): Socket {
  const out = new Writable({ write: (_chunk, _enc, done) => done() });
  return Object.assign(out, { setTimeout: () => out, setNoDelay: () => out, setKeepAlive: () => out, remoteAddress: '127.0.0.1' }) as unknown as Socket;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** One request through the handler; resolves with the status once the response is finished. */
function send(handle: Handler, method: string, url: string, contentType: string, body: string, userAgent = 'nami-bench'): Promise<number> {
  const socket = sink();
  const req = new IncomingMessage(socket);
  req.method = method;
  req.url = url;
  req.headers = { 'content-type': contentType, accept: 'application/json', authorization: `Bearer ${token}`, 'user-agent': userAgent, 'content-length': String(Buffer.byteLength(body)) };
  req.push(body);
  req.push(null);
  // As the HTTP parser marks a request read to its end (else reading it to the end destroys the connection).
  req.complete = true;
  const res = new ServerResponse(req);
  res.assignSocket(socket);
  return new Promise((resolve) => {
    res.once('finish', () => resolve(res.statusCode));
    handle(req, res);
  });
}

function podBody(name: string, n: number): string {
  return (
    `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"${name}","labels":{"app":"bench","shard":"${n % 4}"}},` +
    `"spec":{"containers":[{"name":"main","image":"busybox:1.36","command":["sleep","3600"],"resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}}`
  );
}

/** count requests, concurrency at a time; CPU µs per request of this process's main thread. */
async function timed(count: number, concurrency: number, request: (i: number) => Promise<number>): Promise<number> {
  let failed = 0;
  const { mainUs } = await measureCpu(process.pid, count, concurrency, async (i) => {
    if ((await request(i)) >= 300) failed++;
  });
  if (failed > 0) throw new Error(`${failed} of ${count} requests failed`);
  return mainUs;
}

export async function runWritePathBench(rounds = 5, perRound = 6000, targets = 2000): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nami-bench-write-path-'));
  const backend = await openBackend('sqlite', dataDir);
  const server = await startApiServer({ dataDir, host: '127.0.0.1', port: 0, backend, tokens: new Map([[token, admin]]) });
  const handle = server.api.handle;
  const creates: number[] = [];
  const patches: number[] = [];
  const firstPatches: number[] = [];
  try {
    console.log(
      `\n== API server write path, in process (sqlite store; ${rounds} rounds of ${perRound} creates, ${perRound} label patches of ${targets} pods and ` +
        `${perRound} first label patches of the pods just created, 64 at a time) ==`,
    );
    // The pods the patches change, round after round, as the wrk benchmark's are.
    await timed(targets, 64, (i) => send(handle, 'POST', '/api/v1/namespaces/default/pods', 'application/json', podBody(`target-${i}`, i)));
    let created = 0;
    const createPod = () => {
      const n = created++;
      return send(handle, 'POST', '/api/v1/namespaces/default/pods', 'application/json', podBody(`pod-${n}`, n));
    };
    let touched = 0;
    // Another field manager than the creator's, as `kubectl label` is.
    const patchPod = (name: string) =>
      send(handle, 'PATCH', `/api/v1/namespaces/default/pods/${name}`, 'application/merge-patch+json', `{"metadata":{"labels":{"touched":"${touched++}"}}}`, 'nami-bench-label');
    let patched = 0;
    const labelPatch = () => patchPod(`target-${patched++ % targets}`);
    // The created pods, each patched once, in the order they were created.
    let firstPatched = 0;
    const firstPatch = () => patchPod(`pod-${firstPatched++}`);
    for (let round = 0; round <= rounds; round++) {
      const create = await timed(perRound, 64, createPod);
      const patch = await timed(perRound, 64, labelPatch);
      const first = await timed(perRound, 64, firstPatch);
      // Round 0 warms the JIT up and is not counted.
      if (round === 0) continue;
      creates.push(create);
      patches.push(patch);
      firstPatches.push(first);
    }
    /** The rounds' median and spread, as allocationRow lines up its figure. */
    const cpuRow = (label: string, xs: number[]) =>
      `${label.padEnd(14)} ${percentile([...xs].sort((a, b) => a - b), 50).toFixed(1).padStart(6)} µs main-thread CPU per write (rounds ${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
    console.log(cpuRow('create pod', creates));
    console.log(cpuRow('label patch', patches));
    console.log(cpuRow('first patch', firstPatches));
    const allocation = (request: () => Promise<number>) => allocatedPerRequest(perRound, (count) => timed(count, 64, request));
    // The first patches measured are those of the pods this pass of creates makes.
    firstPatched = created;
    console.log(allocationRow('create pod', await allocation(createPod)));
    console.log(allocationRow('label patch', await allocation(labelPatch)));
    console.log(allocationRow('first patch', await allocation(firstPatch)));
  } finally {
    await server.close();
    await backend.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runWritePathBench();
