// Large YAML bodies are parsed on a worker thread (yaml-worker.ts), one at a
// time in arrival order, so that the serving thread answers other requests
// meanwhile. The thread starts with the first such body and does not keep
// the process alive.
import { Worker } from 'node:worker_threads';
import { BadRequestError } from '../../api/errors.js';

/** What the worker answers for a body: its document's JSON text and repeated keys (decodeYamlText), or the 400's message. */
export type YamlReply = { id: number; json: string; duplicates: string[] } | { id: number; error: string };

/** A YAML body decoded on the worker thread. */
export interface YamlAsJson {
  json: Buffer;
  duplicates: string[];
}

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (decoded: YamlAsJson) => void; reject: (err: Error) => void }>();

function started(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./yaml-worker.js', import.meta.url));
  w.on('message', (reply: YamlReply) => {
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if (waiting.size === 0) w.unref();
    if ('json' in reply) pending.resolve({ json: Buffer.from(reply.json, 'utf8'), duplicates: reply.duplicates });
    else pending.reject(new BadRequestError(reply.error));
  });
  // A thread that failed fails what it held; the next body starts another.
  const failAll = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const pending of waiting.values()) pending.reject(err);
    waiting.clear();
  };
  w.on('error', failAll);
  w.on('exit', () => failAll(new Error('the YAML worker thread exited')));
  w.unref();
  worker = w;
  return w;
}

/** A YAML body's document as JSON text, made on the worker thread; a body it cannot decode rejects with its 400. */
export function yamlToJsonOffThread(raw: Buffer): Promise<YamlAsJson> {
  const w = started();
  const id = nextId++;
  return new Promise<YamlAsJson>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.ref();
    w.postMessage({ id, text: raw.toString('utf8') });
  });
}
