// The CronJob controller against an in-process API server, with an injected
// clock the test moves minute by minute; the test plays the Job controller
// by marking Jobs finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeList, KubeObject } from '../../src/api/object.js';
import type { RestClient } from '../../src/client/rest.js';
import { CronJobController } from '../../src/controllers/cronjob/controller.js';
import { container, createNamespace, startEnv, waitFor } from './workloads-harness.js';

const cronJobs = { group: 'batch', version: 'v1', plural: 'cronjobs' };
const jobs = { group: 'batch', version: 'v1', plural: 'jobs' };
const events = { group: '', version: 'v1', plural: 'events' };

interface CronStatus {
  active?: { name?: string; uid?: string; kind?: string; apiVersion?: string; namespace?: string }[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}

function cronJob(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: { metadata: { labels: { from: name } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [container()] } } } },
      ...spec,
    },
  };
}

async function listJobs(client: RestClient, ns: string): Promise<KubeObject[]> {
  return (await client.list<KubeList>({ ...jobs, namespace: ns })).items.filter((j) => !j.metadata.deletionTimestamp);
}

async function cronStatus(client: RestClient, ns: string, name: string): Promise<CronStatus> {
  return ((await client.get({ ...cronJobs, namespace: ns, name })).status ?? {}) as CronStatus;
}

/** The test acting as the Job controller: the Job finished at its scheduled time plus a second. */
async function finishJob(client: RestClient, job: KubeObject, type: 'Complete' | 'Failed'): Promise<void> {
  const scheduled = Date.parse(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? '');
  const t = new Date(scheduled + 1000).toISOString().replace('.000Z', 'Z');
  const conditions =
    type === 'Complete'
      ? [
          { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: t, lastProbeTime: t },
          { type: 'Complete', status: 'True', lastTransitionTime: t, lastProbeTime: t },
        ]
      : [
          { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', lastTransitionTime: t, lastProbeTime: t },
          { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', lastTransitionTime: t, lastProbeTime: t },
        ];
  const status: Record<string, unknown> = { startTime: new Date(scheduled).toISOString().replace('.000Z', 'Z'), conditions };
  if (type === 'Complete') Object.assign(status, { completionTime: t, succeeded: 1 });
  else status.failed = 1;
  await client.patch({ ...jobs, namespace: job.metadata.namespace, name: job.metadata.name, subresource: 'status' }, { status }, 'merge');
}

/** The first "*\/1" activation after the CronJob's creation. */
function firstMinuteAfter(created: string): number {
  return (Math.floor(Date.parse(created) / 60_000) + 1) * 60_000;
}

test('a CronJob on "*/1 * * * *" creates a Job per minute of its injected clock and prunes finished Jobs beyond the history limits', async () => {
  const env = await startEnv();
  let clock = Date.now();
  const ctrl = new CronJobController(env.factory, { log: env.log, now: () => clock, maxRequeueMs: 50 });
  try {
    await ctrl.start();
    const ns = 'cron-basic';
    await createNamespace(env.client, ns);
    const created = await env.client.create({ ...cronJobs, namespace: ns }, cronJob('tick', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1, timeZone: 'Europe/Berlin' }));
    const first = firstMinuteAfter(created.metadata.creationTimestamp ?? '');
    const outcomes: ('Complete' | 'Failed')[] = ['Complete', 'Complete', 'Complete', 'Failed', 'Failed', 'Complete'];
    const names: string[] = [];
    for (let i = 0; i < outcomes.length; i++) {
      const scheduled = first + i * 60_000;
      clock = scheduled + 1000;
      const name = `tick-${scheduled / 60_000}`;
      names.push(name);
      const job = await waitFor(`job ${name}`, async () => (await listJobs(env.client, ns)).find((j) => j.metadata.name === name));
      if (i === 0) {
        assert.equal(job.metadata.ownerReferences?.[0]?.kind, 'CronJob');
        assert.equal(job.metadata.ownerReferences?.[0]?.controller, true);
        assert.equal(job.metadata.labels?.from, 'tick');
        const annotation = job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? '';
        assert.match(annotation, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\+0[12]:00$/, 'in spec.timeZone');
        assert.equal(Date.parse(annotation), scheduled);
        const s = await waitFor('active', async () => {
          const st = await cronStatus(env.client, ns, 'tick');
          return st.active?.length === 1 ? st : undefined;
        });
        assert.equal(s.active?.[0]?.name, name);
        assert.equal(s.active?.[0]?.kind, 'Job');
        assert.equal(Date.parse(s.lastScheduleTime ?? ''), scheduled);
      }
      await finishJob(env.client, job, outcomes[i]!);
      await waitFor(`${name} no longer active`, async () => !(await cronStatus(env.client, ns, 'tick')).active?.some((r) => r.name === name));
    }
    // Kept: the two newest successful Jobs and the newest failed one.
    const kept = await waitFor('history pruned', async () => {
      const list = (await listJobs(env.client, ns)).map((j) => j.metadata.name ?? '').sort();
      return list.length === 3 ? list : undefined;
    });
    assert.deepEqual(kept, [names[2], names[4], names[5]].sort());
    const status = await cronStatus(env.client, ns, 'tick');
    assert.equal(status.active, undefined);
    assert.equal(Date.parse(status.lastSuccessfulTime ?? ''), first + 5 * 60_000 + 1000);
    const reasons = new Set((await env.client.list<KubeList>({ ...events, namespace: ns })).items.map((e) => e.reason as string));
    for (const r of ['SuccessfulCreate', 'SawCompletedJob', 'SuccessfulDelete']) assert.ok(reasons.has(r), `event ${r}`);
  } finally {
    ctrl.stop();
    await env.close();
  }
});

test('concurrencyPolicy Forbid holds a run back while one is active; Replace deletes the active Job and starts the new one', async () => {
  const env = await startEnv();
  let clock = Date.now();
  const ctrl = new CronJobController(env.factory, { log: env.log, now: () => clock, maxRequeueMs: 50 });
  try {
    await ctrl.start();
    const ns = 'cron-concurrency';
    await createNamespace(env.client, ns);
    const forbid = await env.client.create({ ...cronJobs, namespace: ns }, cronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    await env.client.create({ ...cronJobs, namespace: ns }, cronJob('replace', { concurrencyPolicy: 'Replace' }));
    const first = firstMinuteAfter(forbid.metadata.creationTimestamp ?? '');
    clock = first + 1000;
    await waitFor('first runs', async () => (await listJobs(env.client, ns)).length === 2);
    await waitFor('both active', async () => (await cronStatus(env.client, ns, 'forbid')).active?.length === 1 && (await cronStatus(env.client, ns, 'replace')).active?.length === 1);
    clock = first + 61_000;
    const replaced = `replace-${(first + 60_000) / 60_000}`;
    await waitFor('replace made its second Job', async () => (await cronStatus(env.client, ns, 'replace')).active?.[0]?.name === replaced);
    const names = (await listJobs(env.client, ns)).map((j) => j.metadata.name).sort();
    assert.deepEqual(names, [`forbid-${first / 60_000}`, replaced].sort(), 'Forbid made no second Job; Replace deleted its first');
    await waitFor('JobAlreadyActive event', async () => (await env.client.list<KubeList>({ ...events, namespace: ns })).items.some((e) => e.reason === 'JobAlreadyActive'));
    // Forbid delays rather than drops: once the first Job finishes, the run it held back starts.
    await finishJob(env.client, (await listJobs(env.client, ns)).find((j) => j.metadata.name?.startsWith('forbid-'))!, 'Complete');
    await waitFor('the held-back run', async () => (await cronStatus(env.client, ns, 'forbid')).active?.[0]?.name === `forbid-${(first + 60_000) / 60_000}`);
  } finally {
    ctrl.stop();
    await env.close();
  }
});

test('a suspended CronJob starts nothing; startingDeadlineSeconds skips a run that is too late; a clock far ahead warns of too many missed runs', async () => {
  const env = await startEnv();
  // The next full hour, at least 10 s away so the CronJobs are created before it.
  const hour = (Math.floor((Date.now() + 10_000) / 3_600_000) + 1) * 3_600_000;
  let clock = hour + 40_000;
  // One worker: CronJobs are synced in the order they were created, so a later marker's Job proves the earlier ones were synced.
  const ctrl = new CronJobController(env.factory, { log: env.log, now: () => clock, maxRequeueMs: 50, workers: 1 });
  try {
    await ctrl.start();
    const ns = 'cron-late';
    await createNamespace(env.client, ns);
    await env.client.create({ ...cronJobs, namespace: ns }, cronJob('paused', { schedule: '0 * * * *', suspend: true }));
    // 40 s after the hour with a 30 s starting deadline: the run at the hour is too late.
    await env.client.create({ ...cronJobs, namespace: ns }, cronJob('tardy', { schedule: '0 * * * *', startingDeadlineSeconds: 30 }));
    await env.client.create({ ...cronJobs, namespace: ns }, cronJob('marker', { schedule: '0 * * * *' }));
    await waitFor('the marker ran', async () => (await listJobs(env.client, ns)).some((j) => j.metadata.name === `marker-${hour / 60_000}`));
    assert.deepEqual(
      (await listJobs(env.client, ns)).map((j) => j.metadata.name),
      [`marker-${hour / 60_000}`],
    );
    // The next hour, on time, the deadline lets it run; the suspended one still does not.
    clock = hour + 3_600_000 + 10_000;
    await waitFor('tardy on time', async () => (await listJobs(env.client, ns)).some((j) => j.metadata.name === `tardy-${(hour + 3_600_000) / 60_000}`));
    await waitFor('marker again', async () => (await listJobs(env.client, ns)).some((j) => j.metadata.name === `marker-${(hour + 3_600_000) / 60_000}`));
    assert.ok(!(await listJobs(env.client, ns)).some((j) => j.metadata.name?.startsWith('paused-')));
    // Resumed, it starts the newest due run only.
    await env.client.patch({ ...cronJobs, namespace: ns, name: 'paused' }, { spec: { suspend: false } }, 'merge');
    await waitFor('paused resumed', async () => (await listJobs(env.client, ns)).some((j) => j.metadata.name === `paused-${(hour + 3_600_000) / 60_000}`));
    assert.equal((await listJobs(env.client, ns)).filter((j) => j.metadata.name?.startsWith('paused-')).length, 1);

    // Over a hundred minutes behind: a warning, and only the newest run.
    await env.client.create({ ...cronJobs, namespace: ns }, cronJob('behind', {}));
    clock = hour + 3_600_000 + 130 * 60_000 + 5000;
    const newest = hour + 3_600_000 + 130 * 60_000;
    await waitFor('behind ran', async () => (await listJobs(env.client, ns)).some((j) => j.metadata.name === `behind-${newest / 60_000}`));
    assert.equal((await listJobs(env.client, ns)).filter((j) => j.metadata.name?.startsWith('behind-')).length, 1);
    const warning = await waitFor('TooManyMissedTimes', async () => (await env.client.list<KubeList>({ ...events, namespace: ns })).items.find((e) => e.reason === 'TooManyMissedTimes'));
    assert.equal(warning.type, 'Warning');
    assert.equal(warning.message, 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  } finally {
    ctrl.stop();
    await env.close();
  }
});
