// The Job controller's arithmetic and matching, without an API server:
// pod-failure backoff, podFailurePolicy rules, completion indexes, and which
// active pods go first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDuration, nextBackoffRecord, podFinishedTime, remainingBackoff } from '../../src/controllers/job/backoff.js';
import { activePodsForRemoval, isPodFailed, pastBackoffLimitOnFailure, type Job } from '../../src/controllers/job/controller.js';
import { completionIndexOf, firstPendingIndexes, formatIndexes, generateNameWithIndex, parseIndexes } from '../../src/controllers/job/indexes.js';
import { matchPodFailurePolicy, type PodFailurePolicy } from '../../src/controllers/job/pod-failure-policy.js';
import type { Pod } from '../../src/controllers/workload-common/pods.js';

const t0 = Date.parse('2024-05-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function finishedPod(name: string, phase: 'Succeeded' | 'Failed', finishedAtMs: number, exitCode = phase === 'Succeeded' ? 0 : 1): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: name },
    status: { phase, containerStatuses: [{ name: 'main', state: { terminated: { exitCode, finishedAt: iso(finishedAtMs) } } }] },
  };
}

test('the failure backoff is 10 s doubling per failure since the last success, capped at 6 minutes', () => {
  const base = 10_000;
  const max = 360_000;
  assert.equal(backoffDuration(0, base, max), 0);
  assert.equal(backoffDuration(1, base, max), 10_000);
  assert.equal(backoffDuration(2, base, max), 20_000);
  assert.equal(backoffDuration(3, base, max), 40_000);
  assert.equal(backoffDuration(6, base, max), 320_000);
  assert.equal(backoffDuration(7, base, max), 360_000);
  assert.equal(backoffDuration(60, base, max), 360_000);
});

test('the remaining backoff counts from the last failure', () => {
  const record = { failuresAfterLastSuccess: 2, lastFailureTime: t0 };
  assert.equal(remainingBackoff(record, t0, 10_000, 360_000), 20_000);
  assert.equal(remainingBackoff(record, t0 + 15_000, 10_000, 360_000), 5_000);
  assert.equal(remainingBackoff(record, t0 + 25_000, 10_000, 360_000), 0);
  assert.equal(remainingBackoff({ failuresAfterLastSuccess: 0 }, t0, 10_000, 360_000), 0);
});

test('a success resets the failure count; failures after the last success still count', () => {
  let r = nextBackoffRecord(undefined, [], [finishedPod('a', 'Failed', t0), finishedPod('b', 'Failed', t0 + 1000)]);
  assert.deepEqual(r, { failuresAfterLastSuccess: 2, lastFailureTime: t0 + 1000 });
  r = nextBackoffRecord(r, [], [finishedPod('c', 'Failed', t0 + 5000)]);
  assert.deepEqual(r, { failuresAfterLastSuccess: 3, lastFailureTime: t0 + 5000 });
  r = nextBackoffRecord(r, [finishedPod('d', 'Succeeded', t0 + 6000)], [finishedPod('e', 'Failed', t0 + 5500), finishedPod('f', 'Failed', t0 + 7000)]);
  assert.deepEqual(r, { failuresAfterLastSuccess: 1, lastFailureTime: t0 + 7000 });
  r = nextBackoffRecord(r, [finishedPod('g', 'Succeeded', t0 + 8000)], []);
  assert.deepEqual(r, { failuresAfterLastSuccess: 0 });
});

test('a pod deleted before it finished (an eviction) failed when its deletion was asked for, not when its grace period ends', () => {
  // The API server sets deletionTimestamp to the request's time plus the grace period.
  const evicted: Pod = {
    metadata: { name: 'e', namespace: 'ns', uid: 'e', creationTimestamp: iso(t0 - 60_000), deletionTimestamp: iso(t0 + 30_000), deletionGracePeriodSeconds: 30 },
    status: { phase: 'Running' },
  };
  assert.equal(podFinishedTime(evicted), t0);
  const record = nextBackoffRecord(undefined, [], [evicted]);
  assert.equal(remainingBackoff(record, t0 + 10_000, 10_000, 360_000), 0, 'the replacement is due 10 s after the eviction');
  const forced: Pod = { ...evicted, metadata: { ...evicted.metadata, deletionTimestamp: iso(t0), deletionGracePeriodSeconds: 0 } };
  assert.equal(podFinishedTime(forced), t0);
});

test('podFailurePolicy: the first matching rule decides, with Kubernetes\' messages', () => {
  const policy: PodFailurePolicy = {
    rules: [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42, 43] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1] } },
      { action: 'FailJob', onPodConditions: [{ type: 'ConfigIssue' }] },
    ],
  };
  const exit42 = finishedPod('p42', 'Failed', t0, 42);
  assert.deepEqual(matchPodFailurePolicy(policy, exit42), { countFailed: true, action: 'FailJob', failJobMessage: 'Container main for pod ns/p42 failed with exit code 42 matching FailJob rule at index 1' });
  assert.deepEqual(matchPodFailurePolicy(policy, finishedPod('p5', 'Failed', t0, 5)), { countFailed: true, action: 'Count' });
  // Exit code 1 matches no exit-code rule; no condition either: counted, no action.
  assert.deepEqual(matchPodFailurePolicy(policy, finishedPod('p1', 'Failed', t0, 1)), { countFailed: true });
  const disrupted = finishedPod('pd', 'Failed', t0, 42);
  disrupted.status!.conditions = [{ type: 'DisruptionTarget', status: 'True' }];
  assert.deepEqual(matchPodFailurePolicy(policy, disrupted), { countFailed: false, action: 'Ignore' });
  const config = finishedPod('pc', 'Failed', t0, 1);
  config.status!.conditions = [{ type: 'ConfigIssue', status: 'True' }];
  assert.equal(matchPodFailurePolicy(policy, config).failJobMessage, 'Pod ns/pc has condition ConfigIssue matching FailJob rule at index 3');
  // A container of another name, or exit code 0, never matches an exit-code rule.
  const other = finishedPod('po', 'Failed', t0, 42);
  other.status!.containerStatuses![0]!.name = 'sidecar';
  assert.deepEqual(matchPodFailurePolicy(policy, other), { countFailed: true, action: 'Count' });
  assert.deepEqual(matchPodFailurePolicy(undefined, exit42), { countFailed: true });
});

test('deleted pods count as failed unless only failed pods are replaced', () => {
  const deleting: Pod = { metadata: { name: 'x', deletionTimestamp: iso(t0) }, status: { phase: 'Running' } };
  const job: Job = { metadata: { name: 'j' }, spec: {} };
  assert.equal(isPodFailed(deleting, job), true);
  assert.equal(isPodFailed(deleting, { metadata: { name: 'j' }, spec: { podReplacementPolicy: 'Failed' } }), false);
  assert.equal(isPodFailed(deleting, { metadata: { name: 'j' }, spec: { podFailurePolicy: { rules: [] } } }), false);
  assert.equal(isPodFailed({ metadata: { name: 'y' }, status: { phase: 'Failed' } }, job), true);
});

test('with restartPolicy OnFailure, container restarts of running pods count against backoffLimit', () => {
  const job: Job = { metadata: { name: 'j' }, spec: { backoffLimit: 3, template: { spec: { restartPolicy: 'OnFailure' } } } };
  const pod = (restarts: number): Pod => ({ metadata: { name: 'p' }, status: { phase: 'Running', containerStatuses: [{ name: 'main', restartCount: restarts }] } });
  assert.equal(pastBackoffLimitOnFailure(job, [pod(2)]), false);
  assert.equal(pastBackoffLimitOnFailure(job, [pod(2), pod(1)]), true);
  assert.equal(pastBackoffLimitOnFailure({ ...job, spec: { ...job.spec, backoffLimit: 0 } }, [pod(1)]), true);
  assert.equal(pastBackoffLimitOnFailure({ ...job, spec: { ...job.spec, template: { spec: { restartPolicy: 'Never' } } } }, [pod(9)]), false);
});

test('completedIndexes prints runs of three or more as ranges and pairs as two numbers', () => {
  assert.equal(formatIndexes([0, 1, 2, 3]), '0-3');
  assert.equal(formatIndexes([0, 2]), '0,2');
  assert.equal(formatIndexes([0, 1]), '0,1');
  assert.equal(formatIndexes([5, 1, 2, 3, 7, 8]), '1-3,5,7,8');
  assert.equal(formatIndexes([]), '');
  assert.deepEqual([...parseIndexes('1-3,5,7,8', 100)].sort((a, b) => a - b), [1, 2, 3, 5, 7, 8]);
  assert.deepEqual([...parseIndexes('1-3,5,7', 3)].sort((a, b) => a - b), [1, 2]);
  assert.deepEqual(firstPendingIndexes(3, 6, new Set([0, 2, 3])), [1, 4, 5]);
  assert.deepEqual(firstPendingIndexes(1, 2, new Set([0, 1])), []);
});

test('completion indexes come from the annotation; generated names keep the index within 58 characters', () => {
  assert.equal(completionIndexOf({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': '4' } } }), 4);
  assert.equal(completionIndexOf({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': 'x' } } }), -1);
  assert.equal(completionIndexOf({ metadata: {} }), -1);
  assert.equal(generateNameWithIndex('pi', 3), 'pi-3-');
  const long = 'a'.repeat(70);
  const name = generateNameWithIndex(long, 12);
  assert.equal(name.length, 58);
  assert.ok(name.endsWith('-12-'));
});

test('surplus active pods go unscheduled and not-ready first; an Indexed Job also drops duplicate and out-of-range indexes', () => {
  const pod = (name: string, opts: { node?: string; ready?: boolean; index?: number; created?: number } = {}): Pod => ({
    metadata: {
      name,
      creationTimestamp: iso(t0 + (opts.created ?? 0)),
      annotations: opts.index === undefined ? undefined : { 'batch.kubernetes.io/job-completion-index': String(opts.index) },
    },
    spec: opts.node ? { nodeName: opts.node } : {},
    status: { phase: opts.node ? 'Running' : 'Pending', conditions: opts.ready ? [{ type: 'Ready', status: 'True' }] : [] },
  });
  const nonIndexed: Job = { metadata: { name: 'j' }, spec: {} };
  const active = [pod('ready', { node: 'n', ready: true }), pod('unscheduled'), pod('running', { node: 'n' })];
  assert.deepEqual(
    activePodsForRemoval(nonIndexed, active, 2).map((p) => p.metadata.name),
    ['unscheduled', 'running'],
  );
  const indexed: Job = { metadata: { name: 'j' }, spec: { completionMode: 'Indexed', completions: 3 } };
  const pods = [pod('a0', { index: 0, node: 'n', ready: true }), pod('b0', { index: 0 }), pod('c1', { index: 1 }), pod('d7', { index: 7 }), pod('e', {})];
  assert.deepEqual(
    activePodsForRemoval(indexed, pods, 0)
      .map((p) => p.metadata.name)
      .sort(),
    ['b0', 'd7', 'e'],
  );
});
