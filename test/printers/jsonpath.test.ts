import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonPathEvaluationError, JsonPathSyntaxError, evaluateJsonPath, parseJsonPath } from '../../src/apiserver/printers/index.js';

const pod = {
  metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'shop' } },
  spec: { containers: [{ name: 'web', image: 'web', ports: [{ containerPort: 80 }] }, { name: 'log', image: 'tools' }] },
  status: {
    conditions: [
      { type: 'Initialized', status: 'True', order: 1 },
      { type: 'Ready', status: 'False', order: 2 },
      { type: 'ContainersReady', status: 'False', order: 3 },
    ],
  },
};

function select(path: string): unknown[] {
  return evaluateJsonPath(parseJsonPath(path), pod);
}

test('fields and nested fields select values, missing ones select nothing', () => {
  assert.deepEqual(select('.metadata.name'), ['web']);
  assert.deepEqual(select('{.metadata.labels.app}'), ['web']);
  assert.deepEqual(select('.metadata.missing.deeper'), []);
  assert.deepEqual(select('.spec.containers.name'), []);
});

test('escaped dots and quoted keys reach labels with dots and slashes', () => {
  assert.deepEqual(select('.metadata.labels.app\\.kubernetes\\.io/name'), ['shop']);
  assert.deepEqual(select(".metadata['labels']['app']"), ['web']);
});

test('indexes, negative indexes, slices and wildcards select list elements', () => {
  assert.deepEqual(select('.spec.containers[0].name'), ['web']);
  assert.deepEqual(select('.spec.containers[-1].name'), ['log']);
  assert.deepEqual(select('.spec.containers[*].image'), ['web', 'tools']);
  assert.deepEqual(select('.spec.containers.*.name'), ['web', 'log']);
  assert.deepEqual(select('.spec.containers[0:2].name'), ['web', 'log']);
  assert.deepEqual(select('.status.conditions[::2].type'), ['Initialized', 'ContainersReady']);
  assert.deepEqual(select('.metadata.labels.*'), ['web', 'shop']);
  assert.deepEqual(select('.spec.containers[0,1].name'), ['web', 'log']);
});

test('an index past the end is an evaluation error, as in client-go', () => {
  assert.throws(() => select('.spec.containers[2].name'), JsonPathEvaluationError);
  assert.throws(() => select('.metadata[0]'), JsonPathEvaluationError);
});

test('filters compare a field with a literal or test that it exists', () => {
  assert.deepEqual(select('.status.conditions[?(@.type=="Ready")].status'), ['False']);
  assert.deepEqual(select(".status.conditions[?(@.type == 'Ready')].status"), ['False']);
  assert.deepEqual(select('.status.conditions[?(@.status!="True")].type'), ['Ready', 'ContainersReady']);
  assert.deepEqual(select('.status.conditions[?(@.order>=2)].type'), ['Ready', 'ContainersReady']);
  assert.deepEqual(select('.status.conditions[?(@.order<2)].type'), ['Initialized']);
  assert.deepEqual(select('.spec.containers[?(@.ports)].name'), ['web']);
  assert.deepEqual(select('.status.conditions[?(@.type=="Gone")].status'), []);
});

test('recursive descent finds a field at any depth', () => {
  assert.deepEqual(select('..containerPort'), [80]);
  assert.deepEqual(select('.spec..name'), ['web', 'log']);
});

test('malformed paths are syntax errors', () => {
  assert.throws(() => parseJsonPath('.spec.containers[x]'), JsonPathSyntaxError);
  assert.throws(() => parseJsonPath('.status.conditions[?(@.type=="Ready"'), JsonPathSyntaxError);
  assert.throws(() => parseJsonPath('.spec.containers[0'), JsonPathSyntaxError);
  assert.throws(() => parseJsonPath('.status.conditions[?(@.type=~"R")]'), JsonPathSyntaxError);
});
