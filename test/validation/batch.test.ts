import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../src/api/defaults/index.js';
import type { KubeObject } from '../../src/api/object.js';
import { cronScheduleError } from '../../src/api/validation/index.js';
import { container, gvks, invalidMessage } from './kubectl-messages.js';

/** A Job as the Job strategy leaves it before validation: generated selector and labels. */
function job(restartPolicy?: string): KubeObject {
  const uid = '0a1b2c3d';
  const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
  return {
    metadata: { name: 'pi', namespace: 'default', uid },
    spec: {
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: { metadata: { labels }, spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [container({ name: 'pi' })] } },
    },
  };
}

test('a job with restartPolicy Never passes', () => {
  assert.equal(invalidMessage(gvks.job, job('Never')), undefined);
});

test('a job that would restart Always is told the valid values', () => {
  assert.equal(invalidMessage(gvks.job, job()), 'Job.batch "pi" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"');
});

test('a job without a selector needs one, and then selects none of its pods', () => {
  const j = job('Never');
  delete (j['spec'] as Record<string, unknown>)['selector'];
  assert.equal(
    invalidMessage(gvks.job, j),
    'Job.batch "pi" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: {"batch.kubernetes.io/controller-uid":"0a1b2c3d","batch.kubernetes.io/job-name":"pi","controller-uid":"0a1b2c3d","job-name":"pi"}: `selector` does not match template `labels`]',
  );
});

test('negative completions are rejected', () => {
  const j = job('Never');
  (j['spec'] as Record<string, unknown>)['completions'] = -1;
  assert.equal(invalidMessage(gvks.job, j), 'Job.batch "pi" is invalid: spec.completions: Invalid value: -1: must be greater than or equal to 0');
});

test('the pod template of an existing job is immutable', () => {
  const old = job('Never');
  old.metadata.resourceVersion = '1';
  applyDefaults(gvks.job, old);
  const next = structuredClone(old);
  const podSpec = (next['spec'] as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec;
  podSpec.containers[0]!['image'] = 'perl:5.36';
  const msg = invalidMessage(gvks.job, next, old) ?? '';
  assert.match(msg, /^Job\.batch "pi" is invalid: spec\.template: Invalid value: \{.*\}: field is immutable$/s);
});

test('the selector of an existing job is immutable', () => {
  const old = job('Never');
  old.metadata.resourceVersion = '1';
  applyDefaults(gvks.job, old);
  const next = structuredClone(old);
  (next['spec'] as Record<string, unknown>)['selector'] = { matchLabels: { 'job-name': 'pi' } };
  assert.match(invalidMessage(gvks.job, next, old) ?? '', /spec\.selector: Invalid value: \{"matchLabels":\{"job-name":"pi"\}\}: field is immutable/);
});

function cronJob(schedule: string, extra: Record<string, unknown> = {}, name = 'hello'): KubeObject {
  return {
    metadata: { name, namespace: 'default' },
    spec: { schedule, ...extra, jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [container({ name: 'hello' })] } } } } },
  };
}

test('cron schedules accept five fields, names, steps and macros', () => {
  for (const s of ['*/5 * * * *', '0 0 * * MON-FRI', '15 3 1 jan,jul *', '@hourly', '@daily', '@every 1h30m', '0 */2 ? * *']) {
    assert.equal(cronScheduleError(s), undefined, s);
    assert.equal(invalidMessage(gvks.cronJob, cronJob(s)), undefined, s);
  }
});

test('a schedule with the wrong number of fields shows the parser message', () => {
  assert.equal(invalidMessage(gvks.cronJob, cronJob('* * * *')), 'CronJob.batch "hello" is invalid: spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]');
});

test('out-of-range and malformed schedule fields show the parser message', () => {
  assert.equal(cronScheduleError('60 * * * *'), 'end of range (60) above maximum (59): 60');
  assert.equal(cronScheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
  assert.equal(cronScheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
  assert.equal(cronScheduleError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
  assert.equal(cronScheduleError('*/0 * * * *'), 'step of range should be a positive number: */0');
  assert.equal(cronScheduleError('@weird'), 'unrecognized descriptor: @weird');
  assert.equal(cronScheduleError('@every 5'), 'failed to parse duration @every 5: time: missing unit in duration "5"');
  assert.equal(cronScheduleError(''), 'empty spec string');
});

test('TZ in the schedule is refused in favour of timeZone', () => {
  assert.equal(
    invalidMessage(gvks.cronJob, cronJob('TZ=UTC 0 * * * *')),
    'CronJob.batch "hello" is invalid: spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
  );
});

test('an unknown time zone is rejected, a real one accepted', () => {
  assert.equal(invalidMessage(gvks.cronJob, cronJob('0 * * * *', { timeZone: 'Europe/Berlin' })), undefined);
  assert.equal(
    invalidMessage(gvks.cronJob, cronJob('0 * * * *', { timeZone: 'Mars/Olympus' })),
    'CronJob.batch "hello" is invalid: spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
  );
});

test('cronjob names are limited to 52 characters', () => {
  const name = 'a'.repeat(53);
  assert.equal(invalidMessage(gvks.cronJob, cronJob('@daily', {}, name)), `CronJob.batch "${name}" is invalid: metadata.name: Invalid value: "${name}": must be no more than 52 characters`);
});

test('an unknown concurrency policy lists the valid ones', () => {
  assert.equal(
    invalidMessage(gvks.cronJob, cronJob('@daily', { concurrencyPolicy: 'Sometimes' })),
    'CronJob.batch "hello" is invalid: spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
  );
});
