// The Job controller against an in-process API server; the test acts as the
// nodes: it binds pods, runs them, finishes them with exit codes, and
// completes deletions (gracePeriodSeconds=0) as a kubelet would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import type { RestClient } from '../../src/client/rest.js';
import { JobController, type Job, type JobCondition } from '../../src/controllers/job/controller.js';
import { bindPod, container, createNamespace, finishDeletions, isActivePod, listPods, markFinished, markRunningReady, podPhase, startEnv, waitFor, type Env } from './workloads-harness.js';

const jobs = { group: 'batch', version: 'v1', plural: 'jobs' };
const events = { group: '', version: 'v1', plural: 'events' };

function job(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [container()] } }, ...spec },
  };
}

async function getJob(client: RestClient, ns: string, name: string): Promise<Job> {
  return client.get<Job>({ ...jobs, namespace: ns, name });
}

function condition(j: Job, type: string): JobCondition | undefined {
  return j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

async function jobPods(client: RestClient, ns: string, name: string): Promise<KubeObject[]> {
  return listPods(client, ns, `batch.kubernetes.io/job-name=${name}`);
}

/**
 * One pass of the nodes: finish deletions, start pending pods, and finish
 * running ones with the exit code `exitCode(pod)` gives (undefined: keep running).
 */
async function nodesPass(client: RestClient, ns: string, name: string, exitCode: (pod: KubeObject) => number | undefined): Promise<KubeObject[]> {
  await finishDeletions(client, ns);
  const pods = await jobPods(client, ns, name);
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const phase = podPhase(pod);
    if (phase === 'Pending') {
      await bindPod(client, pod, 'node-1');
      await markRunningReady(client, pod);
    } else if (phase === 'Running') {
      const code = exitCode(pod);
      if (code !== undefined) await markFinished(client, pod, code);
    }
  }
  return pods;
}

async function withJobController<T>(opts: ConstructorParameters<typeof JobController>[1], fn: (env: Env) => Promise<T>): Promise<T> {
  const env = await startEnv();
  const ctrl = new JobController(env.factory, { log: env.log, ...opts });
  try {
    await ctrl.start();
    return await fn(env);
  } finally {
    ctrl.stop();
    await env.close();
  }
}

test('a Job with completions 5 and parallelism 2 never has more than 2 active pods and completes', async () => {
  await withJobController({}, async (env) => {
    const ns = 'job-basic';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('work', { completions: 5, parallelism: 2 }));
    let maxActive = 0;
    const done = await waitFor('Complete', async () => {
      const pods = await nodesPass(env.client, ns, 'work', () => 0);
      maxActive = Math.max(maxActive, pods.filter(isActivePod).length);
      const j = await getJob(env.client, ns, 'work');
      return condition(j, 'Complete') ? j : undefined;
    });
    assert.ok(maxActive <= 2, `at most 2 active pods (saw ${maxActive})`);
    assert.equal(maxActive, 2, 'runs 2 at a time');
    const status = done.status!;
    assert.equal(status.succeeded, 5);
    assert.equal(status.failed, undefined);
    assert.equal(status.active, undefined);
    assert.equal(status.ready, 0);
    assert.equal(status.terminating, 0);
    assert.deepEqual(status.uncountedTerminatedPods, {});
    assert.ok(status.startTime && status.completionTime);
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
        ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ],
    );
    const pods = await jobPods(env.client, ns, 'work');
    assert.equal(pods.length, 5, 'one pod per completion, no extras');
    for (const pod of pods) {
      assert.deepEqual(pod.metadata.finalizers ?? [], [], 'counted pods lose the tracking finalizer');
      assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'Job');
      assert.match(pod.metadata.name ?? '', /^work-[a-z0-9]{5}$/);
    }
    const reasons = (await env.client.list<KubeList>({ ...events, namespace: ns })).items.map((e) => e.reason as string);
    assert.ok(reasons.includes('SuccessfulCreate') && reasons.includes('Completed'));
  });
});

test('pods carry the job-tracking finalizer until counted', async () => {
  await withJobController({}, async (env) => {
    const ns = 'job-finalizer';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('one', {}));
    const pod = await waitFor('pod', async () => (await jobPods(env.client, ns, 'one'))[0]);
    assert.deepEqual(pod.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    await waitFor('active 1', async () => (await getJob(env.client, ns, 'one')).status?.active === 1);
    await bindPod(env.client, pod, 'node-1');
    await markRunningReady(env.client, pod);
    await waitFor('ready 1', async () => (await getJob(env.client, ns, 'one')).status?.ready === 1);
    await markFinished(env.client, pod, 0);
    const j = await waitFor('Complete', async () => {
      const j = await getJob(env.client, ns, 'one');
      return condition(j, 'Complete') ? j : undefined;
    });
    assert.equal(j.status?.succeeded, 1);
    const after = (await jobPods(env.client, ns, 'one'))[0]!;
    assert.deepEqual(after.metadata.finalizers ?? [], []);
  });
});

test('a failing Job is retried with backoff and fails with BackoffLimitExceeded past backoffLimit', async () => {
  await withJobController({ podFailureBackoffMs: 20 }, async (env) => {
    const ns = 'job-fail';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('crash', { backoffLimit: 2 }));
    const failed = await waitFor('Failed', async () => {
      await nodesPass(env.client, ns, 'crash', () => 1);
      const j = await getJob(env.client, ns, 'crash');
      return condition(j, 'Failed') ? j : undefined;
    });
    const status = failed.status!;
    assert.equal(status.failed, 3);
    assert.equal(status.succeeded, undefined);
    assert.equal(status.active, undefined);
    assert.equal(status.completionTime, undefined);
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.reason, c.message]),
      [
        ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
        ['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ],
    );
    assert.equal((await jobPods(env.client, ns, 'crash')).length, 3, 'backoffLimit 2: the first pod and two retries');
  });
});

test('an Indexed Job runs one pod per index with the index annotation, label and hostname, and records completedIndexes', async () => {
  await withJobController({}, async (env) => {
    const ns = 'job-indexed';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('idx', { completions: 4, parallelism: 4, completionMode: 'Indexed' }));
    const pods = await waitFor('4 pods', async () => {
      const list = await jobPods(env.client, ns, 'idx');
      return list.length === 4 ? list : undefined;
    });
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2', '3']);
    for (const [ix, pod] of byIndex) {
      assert.equal(pod.metadata.labels?.['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal((pod.spec as { hostname?: string }).hostname, `idx-${ix}`);
      assert.match(pod.metadata.name ?? '', new RegExp(`^idx-${ix}-[a-z0-9]{5}$`));
    }
    // Indexes 0 and 2 succeed first.
    for (const ix of ['0', '2']) {
      const pod = byIndex.get(ix)!;
      await bindPod(env.client, pod, 'node-1');
      await markFinished(env.client, pod, 0);
    }
    const partial = await waitFor('completedIndexes 0,2', async () => {
      const j = await getJob(env.client, ns, 'idx');
      return j.status?.completedIndexes === '0,2' ? j : undefined;
    });
    assert.equal(partial.status?.succeeded, 2);
    for (const ix of ['1', '3']) {
      const pod = byIndex.get(ix)!;
      await bindPod(env.client, pod, 'node-1');
      await markFinished(env.client, pod, 0);
    }
    const done = await waitFor('Complete', async () => {
      const j = await getJob(env.client, ns, 'idx');
      return condition(j, 'Complete') ? j : undefined;
    });
    assert.equal(done.status?.completedIndexes, '0-3');
    assert.equal(done.status?.succeeded, 4);
  });
});

test('an Indexed Job replaces a failed index with a pod of the same index', async () => {
  await withJobController({ podFailureBackoffMs: 10 }, async (env) => {
    const ns = 'job-indexed-retry';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('ix', { completions: 2, parallelism: 2, completionMode: 'Indexed' }));
    const failedOnce = new Set<string>();
    const done = await waitFor('Complete', async () => {
      await nodesPass(env.client, ns, 'ix', (pod) => {
        const ix = pod.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] ?? '';
        if (ix === '1' && !failedOnce.has(ix)) {
          failedOnce.add(ix);
          return 3;
        }
        return 0;
      });
      const j = await getJob(env.client, ns, 'ix');
      return condition(j, 'Complete') ? j : undefined;
    });
    assert.equal(done.status?.failed, 1);
    assert.equal(done.status?.completedIndexes, '0,1');
    const indexes = (await jobPods(env.client, ns, 'ix')).map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(indexes, ['0', '1', '1']);
  });
});

test('a podFailurePolicy FailJob rule on an exit code fails the Job with reason PodFailurePolicy; an Ignore rule does not count the failure', async () => {
  await withJobController({ podFailureBackoffMs: 10 }, async (env) => {
    const ns = 'job-policy';
    await createNamespace(env.client, ns);
    const podFailurePolicy = {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
        { action: 'Ignore', onExitCodes: { operator: 'In', values: [7] } },
      ],
    };
    await env.client.create({ ...jobs, namespace: ns }, job('policy', { backoffLimit: 0, podFailurePolicy }));
    // First the pod fails with 7 (ignored: replaced, not counted), then its replacement with 42.
    let attempts = 0;
    const failed = await waitFor('Failed', async () => {
      await nodesPass(env.client, ns, 'policy', () => (attempts++ === 0 ? 7 : 42));
      const j = await getJob(env.client, ns, 'policy');
      return condition(j, 'Failed') ? j : undefined;
    });
    const pods = await jobPods(env.client, ns, 'policy');
    assert.equal(pods.length, 2);
    const second = pods.find((p) => (p.status as { containerStatuses?: { state?: { terminated?: { exitCode?: number } } }[] }).containerStatuses?.[0]?.state?.terminated?.exitCode === 42)!;
    const c = condition(failed, 'Failed')!;
    assert.equal(c.reason, 'PodFailurePolicy');
    assert.equal(c.message, `Container main for pod ${ns}/${second.metadata.name} failed with exit code 42 matching FailJob rule at index 0`);
    assert.equal(condition(failed, 'FailureTarget')?.reason, 'PodFailurePolicy');
    assert.equal(failed.status?.failed, 1, 'the ignored failure is not counted');
  });
});

test('activeDeadlineSeconds fails the Job with DeadlineExceeded and deletes its active pods', async () => {
  let offsetMs = 0;
  await withJobController({ now: () => Date.now() + offsetMs }, async (env) => {
    const ns = 'job-deadline';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('slow', { activeDeadlineSeconds: 600 }));
    await waitFor('running', async () => (await nodesPass(env.client, ns, 'slow', () => undefined)).some((p) => podPhase(p) === 'Running'));
    await waitFor('ready 1', async () => (await getJob(env.client, ns, 'slow')).status?.ready === 1);
    // Ten minutes later, by the controller's clock; a touch of the Job makes it look again.
    offsetMs = 601_000;
    await env.client.patch({ ...jobs, namespace: ns, name: 'slow' }, { metadata: { annotations: { poke: '1' } } }, 'merge');
    const failed = await waitFor('Failed', async () => {
      await nodesPass(env.client, ns, 'slow', () => undefined);
      const j = await getJob(env.client, ns, 'slow');
      return condition(j, 'Failed') ? j : undefined;
    });
    assert.equal(condition(failed, 'Failed')?.reason, 'DeadlineExceeded');
    assert.equal(condition(failed, 'Failed')?.message, 'Job was active longer than specified deadline');
    assert.equal(failed.status?.failed, 1, 'the pod deleted at the deadline counts as failed');
    assert.equal((await jobPods(env.client, ns, 'slow')).length, 0);
  });
});

test('a suspended Job deletes its active pods and says Suspended; resuming makes pods again', async () => {
  await withJobController({}, async (env) => {
    const ns = 'job-suspend';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('later', { parallelism: 2, completions: 2 }));
    await waitFor('2 running', async () => (await nodesPass(env.client, ns, 'later', () => undefined)).filter((p) => podPhase(p) === 'Running').length === 2);
    await env.client.patch({ ...jobs, namespace: ns, name: 'later' }, { spec: { suspend: true } }, 'merge');
    const suspended = await waitFor('Suspended', async () => {
      await finishDeletions(env.client, ns);
      const j = await getJob(env.client, ns, 'later');
      return condition(j, 'Suspended') && (await jobPods(env.client, ns, 'later')).length === 0 ? j : undefined;
    });
    const c = condition(suspended, 'Suspended')!;
    assert.equal(c.reason, 'JobSuspended');
    assert.equal(c.message, 'Job suspended');
    assert.equal(suspended.status?.failed, undefined, 'pods deleted for a suspension are not failures');
    await env.client.patch({ ...jobs, namespace: ns, name: 'later' }, { spec: { suspend: false } }, 'merge');
    const done = await waitFor('Complete', async () => {
      await nodesPass(env.client, ns, 'later', () => 0);
      const j = await getJob(env.client, ns, 'later');
      return condition(j, 'Complete') ? j : undefined;
    });
    const resumed = done.status?.conditions?.find((x) => x.type === 'Suspended');
    assert.deepEqual([resumed?.status, resumed?.reason, resumed?.message], ['False', 'JobResumed', 'Job resumed']);
  });
});

test('ttlSecondsAfterFinished deletes the Job once finished', async () => {
  await withJobController({}, async (env) => {
    const ns = 'job-ttl';
    await createNamespace(env.client, ns);
    await env.client.create({ ...jobs, namespace: ns }, job('brief', { ttlSecondsAfterFinished: 0 }));
    await waitFor('deleted', async () => {
      await nodesPass(env.client, ns, 'brief', () => 0);
      try {
        const j = await getJob(env.client, ns, 'brief');
        // Foreground deletion: the Job stays until the garbage collector removes its pods.
        return j.metadata.deletionTimestamp ? (j.metadata.finalizers ?? []).includes('foregroundDeletion') : undefined;
      } catch {
        return true;
      }
    });
  });
});
