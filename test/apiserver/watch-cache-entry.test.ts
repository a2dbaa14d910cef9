// A watch cache entry keeps the value as stored and adds the resourceVersion
// each time its text is read: every read gives the same text, with the
// resourceVersion as the first member of the top-level metadata, and a value
// whose text could mislead that is parsed and written out again instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeStored, resourceVersionAt } from '../../src/apiserver/watch-cache.js';

const kv = (value: string, modRevision: number) => ({ key: '/registry/configmaps/default/a', value, createRevision: 1, modRevision });

describe('a watch cache entry', () => {
  it('reads as the stored value with the resourceVersion first in metadata, the same text on every read', () => {
    const value = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"default"},"data":{"k":"v"}}';
    const entry = decodeStored(kv(value, 42));
    const expected = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"42","name":"a","namespace":"default"},"data":{"k":"v"}}';
    assert.equal(entry.json, expected);
    assert.equal(entry.json, expected);
    assert.equal(entry.revision, 42);
    assert.equal(entry.hasObject, false);
    assert.deepEqual(entry.object, JSON.parse(expected));
    // Parsing for the object leaves the text as it was.
    assert.equal(entry.json, expected);
  });

  it('adds the resourceVersion to empty metadata without a stray comma', () => {
    assert.equal(decodeStored(kv('{"kind":"Thing","metadata":{}}', 7)).json, '{"kind":"Thing","metadata":{"resourceVersion":"7"}}');
  });

  it('parses and writes out again a value whose text could mislead the insertion', () => {
    for (const value of [
      // A member named metadata inside data, before the top-level one.
      '{"data":{"metadata":{"name":"inner"}},"metadata":{"name":"a"}}',
      // A member named resourceVersion in the data.
      '{"metadata":{"name":"a"},"data":{"resourceVersion":"1"}}',
    ]) {
      assert.equal(resourceVersionAt(value), -1, value);
      const entry = decodeStored(kv(value, 9));
      const want = JSON.parse(value);
      want.metadata.resourceVersion = '9';
      assert.deepEqual(JSON.parse(entry.json), want);
      assert.equal(entry.hasObject, true);
    }
  });

  it('keeps what a selector reads of it, made once per reader, without keeping the parsed object', () => {
    const entry = decodeStored(kv('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"app":"web"}},"data":{"k":"v"}}', 5));
    let calls = 0;
    const labels = (o: { metadata: { labels?: Record<string, string> } }) => {
      calls++;
      return o.metadata.labels ?? {};
    };
    assert.deepEqual(entry.attributes(labels), { app: 'web' });
    assert.deepEqual(entry.attributes(labels), { app: 'web' });
    assert.equal(calls, 1);
    assert.equal(entry.hasObject, false);
    // Another reader is asked again.
    assert.equal(entry.attributes((o) => o.metadata.name), 'a');
    assert.equal(entry.hasObject, false);
  });
});
