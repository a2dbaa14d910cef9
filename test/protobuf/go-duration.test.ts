import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from '../../src/api/protobuf/index.js';

const second = 1_000_000_000n;

describe('Go duration strings (metav1.Duration in JSON)', () => {
  it('prints durations as Go time.Duration.String does', () => {
    const cases: [bigint, string][] = [
      [0n, '0s'],
      [1n, '1ns'],
      [1_500n, '1.5µs'],
      [2_000_000n, '2ms'],
      [1_500_000n, '1.5ms'],
      [second, '1s'],
      [1_500_000_000n, '1.5s'],
      [90n * second, '1m30s'],
      [3600n * second, '1h0m0s'],
      [26n * 3600n * second + 3n * second + 1n, '26h0m3.000000001s'],
      [-5n * second, '-5s'],
    ];
    for (const [nanos, text] of cases) assert.equal(formatGoDuration(nanos), text, `${nanos}ns`);
  });

  it('reads what Go time.ParseDuration reads', () => {
    assert.equal(parseGoDuration('1h30m'), 5400n * second);
    assert.equal(parseGoDuration('1.5s'), 1_500_000_000n);
    assert.equal(parseGoDuration('300ms'), 300_000_000n);
    assert.equal(parseGoDuration('2us'), 2_000n);
    assert.equal(parseGoDuration('-1m'), -60n * second);
    assert.equal(parseGoDuration('0'), 0n);
    for (const text of ['', '5', 'h', '1x', '1.5', '--1s']) assert.equal(parseGoDuration(text), undefined, text);
  });
});
