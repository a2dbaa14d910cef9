import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { crdTable, type CustomResourceColumnDefinition } from '../../src/apiserver/printers/index.js';
import { ago, hour, now } from './fixtures.js';

const widget: KubeObject = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w1', creationTimestamp: ago(3 * hour) },
  spec: { replicas: 3, ratio: 0.75, paused: false, size: 2.9, tags: ['a', 'b'], owner: { team: 'web', '<id>': 1 }, nothing: null },
  status: {
    conditions: [
      { type: 'Synced', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'Waiting' },
    ],
    lastSync: ago(90 * 1000),
  },
};

test('printer columns read their JSONPath and take the column type', () => {
  const columns: CustomResourceColumnDefinition[] = [
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether it is ready' },
    { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio', priority: 1 },
    { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused' },
    { name: 'Synced', type: 'date', jsonPath: '.status.lastSync' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ];
  const table = crdTable(columns, [widget], now);
  assert.deepEqual(table.columnDefinitions.map((c) => [c.name, c.type, c.format, c.priority]), [
    ['Name', 'string', 'name', 0],
    ['Replicas', 'integer', '', 0],
    ['Ready', 'string', '', 0],
    ['Ratio', 'number', '', 1],
    ['Paused', 'boolean', '', 0],
    ['Synced', 'date', '', 0],
    ['Age', 'date', '', 0],
  ]);
  assert.equal(table.columnDefinitions[1]?.description, 'Custom resource definition column (in JSONPath format): .spec.replicas');
  assert.equal(table.columnDefinitions[2]?.description, 'Whether it is ready');
  assert.deepEqual(table.rows[0]?.cells, ['w1', 3, 'False', 0.75, false, '90s', '3h']);
  assert.equal(table.rows[0]?.object, widget);
});

test('a version without printer columns shows NAME and AGE', () => {
  const table = crdTable(undefined, [widget], now);
  assert.deepEqual(table.columnDefinitions.map((c) => [c.name, c.type]), [['Name', 'string'], ['Age', 'date']]);
  assert.match(table.columnDefinitions[1]?.description ?? '', /^CreationTimestamp is a timestamp/);
  assert.deepEqual(table.rows[0]?.cells, ['w1', '3h']);
  assert.deepEqual(crdTable([], [widget], now).rows[0]?.cells, ['w1', '3h']);
});

test('missing fields and values of the wrong type leave the cell empty', () => {
  const columns: CustomResourceColumnDefinition[] = [
    { name: 'Missing', type: 'string', jsonPath: '.spec.nope' },
    { name: 'WrongType', type: 'integer', jsonPath: '.spec.paused' },
    { name: 'NotDate', type: 'date', jsonPath: '.spec.replicas' },
    { name: 'OutOfRange', type: 'string', jsonPath: '.spec.tags[5]' },
    { name: 'Truncated', type: 'integer', jsonPath: '.spec.size' },
    { name: 'BadDate', type: 'date', jsonPath: '.spec.tags[0]' },
  ];
  assert.deepEqual(crdTable(columns, [widget], now).rows[0]?.cells, ['w1', null, null, null, null, 2, '<invalid>']);
});

test('string columns print lists and maps as JSON, numbers as Go does, and null as <no value>', () => {
  const columns: CustomResourceColumnDefinition[] = [
    { name: 'Tags', type: 'string', jsonPath: '.spec.tags' },
    { name: 'Owner', type: 'string', jsonPath: '.spec.owner' },
    { name: 'Replicas', type: 'string', jsonPath: '.spec.replicas' },
    { name: 'Paused', type: 'string', jsonPath: '.spec.paused' },
    { name: 'Nothing', type: 'string', jsonPath: '.spec.nothing' },
    { name: 'FirstTag', type: 'string', jsonPath: '.spec.tags[*]' },
  ];
  assert.deepEqual(crdTable(columns, [widget], now).rows[0]?.cells, [
    'w1', '["a","b"]', '{"\\u003cid\\u003e":1,"team":"web"}', '3', 'false', '<no value>', 'a',
  ]);
});

test('columns stop at the first JSONPath that does not parse, as in Kubernetes', () => {
  const columns: CustomResourceColumnDefinition[] = [
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Broken', type: 'string', jsonPath: '.spec.tags[x]' },
    { name: 'After', type: 'string', jsonPath: '.metadata.name' },
  ];
  const table = crdTable(columns, [widget], now);
  assert.deepEqual(table.columnDefinitions.map((c) => c.name), ['Name', 'Replicas']);
  assert.deepEqual(table.rows[0]?.cells, ['w1', 3]);
});

test('a format given by the column definition is passed on', () => {
  const table = crdTable([{ name: 'Owner', type: 'string', format: 'name', jsonPath: '.spec.owner.team' }], [widget], now);
  assert.equal(table.columnDefinitions[1]?.format, 'name');
  assert.deepEqual(table.rows[0]?.cells, ['w1', 'web']);
});
