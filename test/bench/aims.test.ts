import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aimRows } from '../../bench/aims.js';

const line = (rows: string[], label: string) => {
  const found = rows.find((r) => r.startsWith(label));
  assert.ok(found, `no line for ${label} in:\n${rows.join('\n')}`);
  return found;
};

test('each aim is shown beside its figure, met or missed by the aim', () => {
  const rows = aimRows({ readyMs: 1200, idleRssMb: 149.9, listP50Ms: 100, sqliteOverEtcd: 1.5, createP99Ms: 19.99, patchP99Ms: 21 });
  assert.equal(rows.length, 6);
  assert.match(line(rows, 'creates through sqlite / through etcd'), /1\.50x\s+met$/);
  assert.match(line(rows, 'create p99'), /19\.99 ms\s+met$/);
  assert.match(line(rows, 'label patch p99'), /21\.00 ms\s+MISSED$/);
  // Under 100 ms: 100 is not.
  assert.match(line(rows, 'list of 10,000 pods'), /100\.00 ms\s+MISSED$/);
  assert.match(line(rows, 'idle RSS'), /149\.9 MB\s+met$/);
  assert.match(line(rows, 'cold start to ready'), /1200 ms\s+MISSED$/);
});

test('a figure the run could not measure is said to be missing, with why', () => {
  const rows = aimRows({ readyMs: 500, idleRssMb: 130, listP50Ms: 70 });
  assert.match(line(rows, 'creates through sqlite / through etcd'), /not measured \(no etcd\)$/);
  assert.match(line(rows, 'create p99'), /not measured \(no wrk\)$/);
  assert.match(line(rows, 'label patch p99'), /not measured \(no wrk\)$/);
  assert.ok(!rows.some((r) => /MISSED/.test(r)), rows.join('\n'));
});

test('the p99 aims carry the server CPU a write of their rounds, when it was measured', () => {
  const rows = aimRows({ createP99Ms: 13.91, patchP99Ms: 19.98, createCpuUs: 114.4, patchCpuUs: 140 });
  assert.match(line(rows, 'create p99'), /13\.91 ms\s+met\s+\(server CPU 114 µs a write\)$/);
  assert.match(line(rows, 'label patch p99'), /19\.98 ms\s+met\s+\(server CPU 140 µs a write\)$/);
});
