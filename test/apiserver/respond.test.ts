// Streamed JSON bodies (lists): what the client reads is the parts in order,
// whatever their sizes and characters, and the parts are taken only as they
// are written.
import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sendJsonParts } from '../../src/apiserver/http/respond.js';

/** A list body of `count` items of about `size` characters, one of them `large` characters long. */
function* listParts(count: number, size: number, large: number, taken: { parts: number }): Generator<string> {
  taken.parts++;
  yield '{"items":[';
  for (let i = 0; i < count; i++) {
    taken.parts++;
    // Two-, three- and four-byte characters in UTF-8, so that parts do not fill a chunk byte for character.
    const text = i === Math.floor(count / 2) ? 'x'.repeat(large) : `é€😀${i}`.padEnd(size, 'ü');
    yield (i === 0 ? '' : ',') + JSON.stringify({ i, text });
  }
  taken.parts++;
  yield ']}';
}

describe('sendJsonParts', () => {
  let server: Server;
  let port: number;
  const taken = { parts: 0 };
  let takenBeforeEnd = -1;

  before(async () => {
    server = createServer((req, res) => {
      const count = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('count'));
      const parts = listParts(count, 2000, 600_000, taken);
      // The first part is taken when the body starts, not all of them before.
      void sendJsonParts(res, 200, parts).then(() => undefined);
      takenBeforeEnd = taken.parts;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function fetchList(count: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: `/?count=${count}` }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      }).on('error', reject);
    });
  }

  it('sends every part in order, intact, across many chunks and a part larger than a chunk', async () => {
    for (const count of [0, 1, 3000]) {
      taken.parts = 0;
      const { status, body } = await fetchList(count);
      assert.equal(status, 200);
      const list = JSON.parse(body) as { items: { i: number; text: string }[] };
      assert.equal(list.items.length, count);
      for (let i = 0; i < count; i++) {
        assert.equal(list.items[i]!.i, i);
        assert.equal(list.items[i]!.text, i === Math.floor(count / 2) ? 'x'.repeat(600_000) : `é€😀${i}`.padEnd(2000, 'ü'));
      }
      assert.equal(taken.parts, count + 2);
    }
  });

  it('takes the parts as it writes them, not all before the first write', async () => {
    taken.parts = 0;
    await fetchList(3000);
    assert.ok(takenBeforeEnd > 0 && takenBeforeEnd < 3002, `parts taken before the handler returned: ${takenBeforeEnd}`);
  });
});
