// SqliteBackend's checkpointer thread: copies committed WAL frames into the
// database file on a connection of its own, beside the writer. SQLite's
// automatic checkpoint runs inside the commit that crosses its threshold
// (1000 pages), which then waited for the copying of all of them; with this
// thread a few milliseconds' worth is left, so that commit checkpoints the
// rest quickly and the WAL starts over. A PASSIVE checkpoint never blocks
// the writer: it copies what is committed and leaves the rest for next time.

import { parentPort, workerData } from 'node:worker_threads';
import { openStateDatabase } from './sqlite-schema.js';
import type { CheckpointReply, CheckpointRequest } from './sqlite-schema.js';

const port = parentPort;
if (!port) throw new Error('sqlite-checkpoint-worker must run as a worker thread');
const db = openStateDatabase((workerData as { path: string }).path);

port.on('message', (request: CheckpointRequest) => {
  if (request.type === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: CheckpointReply;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    reply = { type: 'checkpointed' };
  } catch (err) {
    reply = { type: 'failed', message: (err as Error).message };
  }
  port.postMessage(reply);
});
