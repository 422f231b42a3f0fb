import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBuckets } from './rate-limit.js';

describe('TokenBuckets', () => {
  it('ok/burst-then-refill-per-client', () => {
    let now = 0;
    const b = new TokenBuckets({ burst: 2, perSecond: 1 }, () => now);
    assert.equal(b.take('a'), 0);
    assert.equal(b.take('a'), 0);
    assert.equal(b.take('a'), 1, 'empty: wait one second');
    assert.equal(b.take('b'), 0, 'clients are independent');
    now = 1000;
    assert.equal(b.take('a'), 0, 'one token back after a second');
    assert.equal(b.take('a'), 1);
    now = 60_000;
    assert.equal(b.take('a'), 0);
    assert.equal(b.take('a'), 0);
    assert.equal(b.take('a'), 1, 'refill is capped at the burst');
  });

  it('ok/memory-bounded-least-recent-forgotten', () => {
    const b = new TokenBuckets({ burst: 1, perSecond: 0.001, maxClients: 2 }, () => 0);
    assert.equal(b.take('a'), 0);
    assert.equal(b.take('b'), 0);
    assert.ok(b.take('a') > 0, 'a is empty and now most recent');
    assert.equal(b.take('c'), 0, 'c evicts b, the least recently seen');
    assert.ok(b.take('a') > 0, 'a is still tracked');
    assert.equal(b.take('b'), 0, 'b was forgotten: a fresh bucket');
  });
});
