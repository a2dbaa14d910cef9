// The messages between the TLS front's thread and the API server's thread:
// a turn's ops go as one message, and the chunks read from sockets in that
// turn travel in one buffer, each op's payload a view of its own bytes.
import assert from 'node:assert/strict';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { Op, Outbox, type Traffic } from '../../src/apiserver/tls-front-protocol.js';

/** The next message on a port. */
function nextMessage(port: MessagePort): Promise<Traffic> {
  return new Promise((resolve) => port.once('message', resolve));
}

describe('the TLS front protocol', () => {
  it('sends a turn\'s socket chunks in one moved buffer, each op with its own bytes in order, copied at the end of the turn', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const posted: ArrayBuffer[][] = [];
      const outbox = new Outbox((ops, transfer) => {
        posted.push(transfer);
        port1.postMessage(ops, transfer);
      });
      // Chunks as sockets hand them over: views into a larger pool.
      const pool = Buffer.from('xxGET /a HTTP/1.1\r\n\r\nyyGET /bb HTTP/1.1\r\n\r\nzz');
      const first = pool.subarray(2, 21);
      const second = pool.subarray(23, 43);
      const third = Buffer.from('PATCH /c HTTP/1.1\r\n');
      outbox.pushChunk(7, Op.data, first);
      outbox.push(9, Op.end, 0);
      outbox.pushChunk(8, Op.data, second);
      outbox.pushChunk(7, Op.data, third);
      const arrived = nextMessage(port2);
      outbox.flush();
      // The sender's buffers may be reused once the message is sent.
      pool.fill(0);
      third.fill(0);
      const ops = await arrived;

      assert.equal(posted.length, 1);
      assert.equal(posted[0]!.length, 1, 'one buffer moved for the three chunks');
      assert.equal(ops.length, 12);
      const text = (payload: unknown) => Buffer.from((payload as Uint8Array).buffer, (payload as Uint8Array).byteOffset, (payload as Uint8Array).byteLength).toString('latin1');
      assert.deepEqual(
        [ops[0], ops[1], text(ops[2]), ops[3], ops[4], ops[5], ops[6], ops[7], text(ops[8]), ops[9], ops[10], text(ops[11])],
        [7, Op.data, 'GET /a HTTP/1.1\r\n\r\n', 9, Op.end, 0, 8, Op.data, 'GET /bb HTTP/1.1\r\n\r\n', 7, Op.data, 'PATCH /c HTTP/1.1\r\n'],
      );
      const buffers = new Set([ops[2], ops[8], ops[11]].map((v) => (v as Uint8Array).buffer));
      assert.equal(buffers.size, 1, 'the views share the one buffer');
    } finally {
      port1.close();
    }
  });

  it('starts the next turn\'s buffer afresh, and a turn without chunks moves none', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const outbox = new Outbox((ops, transfer) => port1.postMessage([ops, transfer.length], transfer));
      outbox.pushChunk(1, Op.data, Buffer.from('one'));
      let arrived = nextMessage(port2);
      outbox.flush();
      const [firstOps, firstMoved] = (await arrived) as unknown as [Traffic, number];
      outbox.push(1, Op.end, 0);
      arrived = nextMessage(port2);
      outbox.flush();
      const [secondOps, secondMoved] = (await arrived) as unknown as [Traffic, number];
      outbox.pushChunk(2, Op.data, Buffer.from('three'));
      arrived = nextMessage(port2);
      outbox.flush();
      const [thirdOps, thirdMoved] = (await arrived) as unknown as [Traffic, number];

      assert.deepEqual([firstMoved, secondMoved, thirdMoved], [1, 0, 1]);
      assert.equal(Buffer.from(firstOps[2] as Uint8Array).toString(), 'one');
      assert.deepEqual(secondOps, [1, Op.end, 0]);
      assert.equal((thirdOps[2] as Uint8Array).byteLength, 5);
      assert.equal(Buffer.from(thirdOps[2] as Uint8Array).toString(), 'three');
    } finally {
      port1.close();
    }
  });
});
