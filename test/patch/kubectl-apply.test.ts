import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaPatchMeta, applyStrategicMergePatch } from '../../src/api/patch/index.js';
import { applyCases } from './fixtures/kubernetes-cases.js';
import { mergeItemDefinitions } from './fixtures/merge-item-definitions.js';
import { threeWayMergePatch, twoWayMergePatch } from './kubectl-apply.js';

const mergeItem = new SchemaPatchMeta(mergeItemDefinitions, 'mergeItem');

// The replayed patches must do what kubectl's do on Kubernetes' own vectors,
// or the workload tests built on them would prove nothing.
for (const c of applyCases) {
  if (!c.modified || !c.current || !c.result) continue;
  test(`kubectl apply replay: ${c.description}`, () => {
    const original = c.original ?? {};
    const modified = c.modified ?? {};
    const twoWay = twoWayMergePatch(original, modified, mergeItem);
    assert.deepStrictEqual(applyStrategicMergePatch(original, twoWay, mergeItem), c.twoWayResult ?? modified, `two-way patch ${JSON.stringify(twoWay)}`);
    const threeWay = threeWayMergePatch(original, modified, c.current ?? {}, mergeItem);
    assert.deepStrictEqual(applyStrategicMergePatch(c.current, threeWay, mergeItem), c.result, `three-way patch ${JSON.stringify(threeWay)}`);
  });
}
