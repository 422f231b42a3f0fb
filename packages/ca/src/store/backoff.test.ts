import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outboxBackoffMs } from './backoff.js';

const noJitter = () => 0;

for (const [attempts, expected] of [
  [0, 5_000],
  [1, 5_000],
  [2, 10_000],
  [3, 20_000],
  [10, 2_560_000],
  [11, 3_600_000],
  [1000, 3_600_000],
] as const) {
  test(`ok/backoff-attempt-${attempts}`, () => {
    assert.equal(outboxBackoffMs(attempts, { random: noJitter }), expected);
  });
}

test('ok/backoff-jitter-is-at-most-20-percent', () => {
  assert.equal(outboxBackoffMs(2, { random: () => 0.999999 }), 8_000);
  assert.equal(outboxBackoffMs(2, { random: () => 0.5, baseMs: 100, maxMs: 150 }), 135);
});
