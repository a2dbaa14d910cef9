// The YAML worker thread (yaml-off-thread.ts): decodes a body as
// decodeDocument decodes YAML, and answers with its JSON text and repeated
// keys, or the message of the 400 it gets.
import { parentPort } from 'node:worker_threads';
import { decodeYamlText, loadYaml } from './body.js';
import type { YamlReply } from './yaml-off-thread.js';

const port = parentPort;
if (!port) throw new Error('yaml-worker must run as a worker thread');
// Messages wait in the port's queue until the parser is loaded and the listener is on.
await loadYaml();

port.on('message', ({ id, text }: { id: number; text: string }) => {
  let reply: YamlReply;
  try {
    const { value, duplicates } = decodeYamlText(text);
    reply = { id, json: JSON.stringify(value), duplicates };
  } catch (err) {
    reply = { id, error: (err as Error).message };
  }
  port.postMessage(reply);
});
