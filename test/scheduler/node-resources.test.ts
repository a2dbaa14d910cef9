// NodeResourcesFit (filter and least-allocated score) and
// NodeResourcesBalancedAllocation, on NodeInfos built by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../../src/scheduler/framework.js';
import { NodeResourcesBalancedAllocation, NodeResourcesFit, fitsRequest, leastRequestedScore } from '../../src/scheduler/plugins/node-resources-fit.js';
import { PodInfo } from '../../src/scheduler/pod-info.js';
import { node, nodeInfo, pod, podInfo } from './fixtures.js';

const fit = new NodeResourcesFit();
const state = new CycleState();

test('a pod fits when every requested resource is within allocatable minus what the node’s pods request', () => {
  const n = nodeInfo(node('n', { cpu: '2', memory: '4Gi' }), [pod('a', { cpu: '1', memory: '1Gi' })]);
  assert.ok(fit.filter(state, podInfo('p', { cpu: '1', memory: '3Gi' }), n).isSuccess());
  const s = fit.filter(state, podInfo('p', { cpu: '1500m', memory: '3500Mi' }), n);
  assert.equal(s.code, 'Unschedulable');
  assert.deepEqual(s.reasons, ['Insufficient cpu', 'Insufficient memory']);
});

test('ephemeral storage and extended resources are checked; a node without the resource has none', () => {
  const gpuNode = nodeInfo(node('gpu', { extra: { 'nvidia.com/gpu': '2' } }), [pod('a', { requests: { 'nvidia.com/gpu': '1' } })]);
  const plain = nodeInfo(node('plain'));
  const wantsOne = podInfo('p', { requests: { 'nvidia.com/gpu': '1' } });
  const wantsTwo = podInfo('p', { requests: { 'nvidia.com/gpu': '2', 'ephemeral-storage': '20Gi' } });
  assert.ok(fit.filter(state, wantsOne, gpuNode).isSuccess());
  assert.deepEqual(fit.filter(state, wantsTwo, gpuNode).reasons, ['Insufficient ephemeral-storage', 'Insufficient nvidia.com/gpu']);
  assert.deepEqual(fit.filter(state, wantsOne, plain).reasons, ['Insufficient nvidia.com/gpu']);
  const detail = fitsRequest(wantsTwo, gpuNode);
  assert.deepEqual(detail[1], { resourceName: 'nvidia.com/gpu', reason: 'Insufficient nvidia.com/gpu', requested: 2, used: 1, capacity: 2 });
});

test('the pod count limit applies even to pods that request nothing', () => {
  const full = nodeInfo(node('n', { pods: '2' }), [pod('a'), pod('b')]);
  assert.deepEqual(fit.filter(state, podInfo('p'), full).reasons, ['Too many pods']);
  assert.deepEqual(fit.filter(state, podInfo('p', { cpu: '5' }), full).reasons, ['Too many pods', 'Insufficient cpu']);
  assert.ok(fit.filter(state, podInfo('p'), nodeInfo(node('n', { pods: '3' }), [pod('a'), pod('b')])).isSuccess());
});

test('init containers and overhead count as Kubernetes computes them', () => {
  const n = nodeInfo(node('n', { cpu: '2' }));
  const heavyInit = pod('p', { cpu: '500m' });
  heavyInit.spec!.initContainers = [{ name: 'init', resources: { requests: { cpu: '2500m' } } }];
  assert.deepEqual(fit.filter(state, new PodInfo(heavyInit), n).reasons, ['Insufficient cpu']);
  const withOverhead = pod('q', { cpu: '1900m' });
  withOverhead.spec!.overhead = { cpu: '200m' };
  assert.deepEqual(fit.filter(state, new PodInfo(withOverhead), n).reasons, ['Insufficient cpu']);
});

test('least allocated scores the free share of cpu and memory, with defaults for pods that request nothing', () => {
  assert.equal(leastRequestedScore(0, 4000), 100);
  assert.equal(leastRequestedScore(3000, 4000), 25);
  assert.equal(leastRequestedScore(5000, 4000), 0);
  const empty = nodeInfo(node('empty', { cpu: '4', memory: '8Gi' }));
  const busy = nodeInfo(node('busy', { cpu: '4', memory: '8Gi' }), [pod('a', { cpu: '2', memory: '4Gi' })]);
  const p = podInfo('p', { cpu: '1', memory: '2Gi' });
  // empty: cpu (4-1)/4 = 75, memory (8-2)/8 = 75; busy: cpu 25, memory 25.
  assert.equal(fit.score(state, p, empty), 75);
  assert.equal(fit.score(state, p, busy), 25);
  // A best-effort pod counts as 100m cpu and 200Mi memory: cpu (4000-100)/4000 -> 97, memory (8192-200)/8192 -> 97.
  assert.equal(fit.score(state, podInfo('be'), empty), 97);
});

test('balanced allocation prefers nodes where cpu and memory would be used in equal shares, and skips best-effort pods', () => {
  const balanced = new NodeResourcesBalancedAllocation();
  const n = nodeInfo(node('n', { cpu: '4', memory: '8Gi' }));
  // cpu 2/4 = 0.5, memory 4/8 = 0.5: perfectly balanced.
  assert.equal(balanced.score(state, podInfo('p', { cpu: '2', memory: '4Gi' }), n), 100);
  // cpu 0.5, memory 0.125: std = 0.1875 -> 81.
  assert.equal(balanced.score(state, podInfo('p', { cpu: '2', memory: '1Gi' }), n), 81);
  assert.equal(balanced.preScore(state, podInfo('be')).code, 'Skip');
  assert.equal(balanced.preScore(state, podInfo('p', { cpu: '1' })).code, 'Success');
});

test('a new node that could hold the pod requeues it; a smaller one does not', () => {
  const reg = fit.eventsToRegister().find((r) => r.event.resource === 'Node')!;
  const p = podInfo('p', { cpu: '3', requests: { 'nvidia.com/gpu': '1' } });
  assert.equal(reg.hint!(p, undefined, node('big', { cpu: '8', extra: { 'nvidia.com/gpu': '1' } })), true);
  assert.equal(reg.hint!(p, undefined, node('small', { cpu: '2', extra: { 'nvidia.com/gpu': '1' } })), false);
  assert.equal(reg.hint!(p, undefined, node('nogpu', { cpu: '8' })), false);
});
