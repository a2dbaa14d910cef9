import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../src/api/errors.js';
import { Quantity } from '../../src/api/quantity.js';

const canonical = (s: string | number): string => Quantity.parse(s).toString();

test('quantities already in canonical form keep their spelling', () => {
  for (const s of ['100m', '1Gi', '500Mi', '2', '1500m', '2e3', '1k', '250u', '3Ti']) assert.equal(canonical(s), s);
});

test('quantities are rewritten to the form Kubernetes stores', () => {
  assert.equal(canonical('1000'), '1k');
  assert.equal(canonical('1000m'), '1');
  assert.equal(canonical('0.5'), '500m');
  assert.equal(canonical('1.5Gi'), '1536Mi');
  assert.equal(canonical('1024Mi'), '1Gi');
  assert.equal(canonical('1.5'), '1500m');
  assert.equal(canonical('0.1Gi'), '107374182400m');
  assert.equal(canonical('2048'), '2048');
  assert.equal(canonical('1e3'), '1e3');
  assert.equal(canonical('1E3'), '1E3');
  assert.equal(canonical('12e5'), '1200e3');
  assert.equal(canonical('0m'), '0');
  assert.equal(canonical('-1.5'), '-1500m');
});

test('JSON numbers parse like their decimal text', () => {
  assert.equal(canonical(1), '1');
  assert.equal(canonical(0.25), '250m');
  assert.equal(canonical(4096), '4096');
});

test('amounts below a nano round up to 1n', () => {
  assert.equal(canonical('0.1n'), '1n');
  assert.equal(canonical('1.0000000001'), '1000000001n');
});

test('value and milliValue round away from zero', () => {
  assert.equal(Quantity.parse('100m').milliValue(), 100);
  assert.equal(Quantity.parse('100m').value(), 1);
  assert.equal(Quantity.parse('1.5Gi').value(), 1610612736);
  assert.equal(Quantity.parse('1Ki').milliValue(), 1024000);
  assert.equal(Quantity.parse('-0.5').value(), -1);
});

test('comparison and addition work across suffixes', () => {
  assert.equal(Quantity.parse('1Gi').cmp(Quantity.parse('1000Mi')), 1);
  assert.equal(Quantity.parse('1').cmp(Quantity.parse('1000m')), 0);
  assert.equal(Quantity.parse('500m').add(Quantity.parse('1500m')).toString(), '2');
  assert.equal(Quantity.parse('1Gi').add(Quantity.parse('512Mi')).toString(), '1536Mi');
  assert.equal(Quantity.zero().add(Quantity.parse('1Ki')).toString(), '1Ki');
  assert.equal(Quantity.fromMilli(250).toString(), '250m');
});

test('bad strings fail with Kubernetes messages', () => {
  const messageOf = (s: string): string => {
    try {
      Quantity.parse(s);
    } catch (e) {
      assert.ok(e instanceof BadRequestError);
      return e.message;
    }
    assert.fail(`expected ${s} to be rejected`);
  };
  const formatMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  assert.equal(messageOf(''), formatMessage);
  assert.equal(messageOf('1x'), formatMessage);
  assert.equal(messageOf('1.5.5'), formatMessage);
  assert.equal(messageOf('1KK'), "unable to parse quantity's suffix");
  assert.equal(messageOf('1K'), "unable to parse quantity's suffix");
});
