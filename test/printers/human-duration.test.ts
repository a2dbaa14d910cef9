import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, timestampSince } from '../../src/apiserver/printers/index.js';
import { day, hour, minute, now, second } from './fixtures.js';

const year = 365 * day;
const ms = 1;

// The cases of Kubernetes' duration_test.go (TestHumanDuration and TestHumanDurationBoundaries).
const cases: [number, string][] = [
  [second, '1s'],
  [70 * second, '70s'],
  [190 * second, '3m10s'],
  [70 * minute, '70m'],
  [47 * hour, '47h'],
  [49 * hour, '2d1h'],
  [(8 * 24 + 2) * hour, '8d'],
  [367 * day, '367d'],
  [(365 * 2 * 24 + 25) * hour, '2y1d'],
  [(365 * 8 * 24 + 2) * hour, '8y'],
  [-2 * second, '<invalid>'],
  [-2 * second + ms, '0s'],
  [0, '0s'],
  [second - ms, '0s'],
  [2 * minute - ms, '119s'],
  [2 * minute, '2m'],
  [2 * minute + second, '2m1s'],
  [10 * minute - ms, '9m59s'],
  [10 * minute, '10m'],
  [10 * minute + second, '10m'],
  [3 * hour - ms, '179m'],
  [3 * hour, '3h'],
  [3 * hour + minute, '3h1m'],
  [8 * hour - ms, '7h59m'],
  [8 * hour, '8h'],
  [8 * hour + 59 * minute, '8h'],
  [2 * day - ms, '47h'],
  [2 * day, '2d'],
  [2 * day + hour, '2d1h'],
  [8 * day - ms, '7d23h'],
  [8 * day, '8d'],
  [8 * day + 23 * hour, '8d'],
  [2 * year - ms, '729d'],
  [2 * year, '2y'],
  [2 * year + 23 * hour, '2y'],
  [2 * year + 23 * hour + 59 * minute, '2y'],
  [2 * year + day - ms, '2y'],
  [2 * year + day, '2y1d'],
  [3 * year, '3y'],
  [4 * year, '4y'],
  [5 * year, '5y'],
  [6 * year, '6y'],
  [7 * year, '7y'],
  [8 * year - ms, '7y364d'],
  [8 * year, '8y'],
  [8 * year + 364 * day, '8y'],
  [9 * year, '9y'],
  [150 * second, '2m30s'],
  [3 * hour + 5 * minute, '3h5m'],
];

test('ages keep two or three significant figures exactly at Kubernetes\' boundaries', () => {
  const got = cases.map(([duration]) => [duration, humanDuration(duration)]);
  assert.deepEqual(got, cases);
});

test('a missing or zero timestamp prints as <unknown>', () => {
  assert.equal(timestampSince(undefined, now), '<unknown>');
  assert.equal(timestampSince(null, now), '<unknown>');
  assert.equal(timestampSince('', now), '<unknown>');
  assert.equal(timestampSince('0001-01-01T00:00:00Z', now), '<unknown>');
  assert.equal(timestampSince('not a time', now), '<unknown>');
});

test('timestamps with fractions and offsets are read as RFC 3339', () => {
  assert.equal(timestampSince('2024-05-01T11:59:30.123456Z', now), '29s');
  assert.equal(timestampSince('2024-05-01T13:30:00+02:00', now), '30m');
});

test('a timestamp slightly in the future counts as now, further ahead as invalid', () => {
  assert.equal(timestampSince('2024-05-01T12:00:01Z', now), '0s');
  assert.equal(timestampSince('2024-05-01T12:00:05Z', now), '<invalid>');
});
