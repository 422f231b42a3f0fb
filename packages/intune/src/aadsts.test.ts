import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainAadsts, findAadsts } from './aadsts.js';
import { isRetryableStatus, parseRetryAfter, withRetry } from './retry.js';

describe('explainAadsts', () => {
  it('ok/known-codes: with or without the AADSTS prefix', () => {
    assert.equal(explainAadsts('AADSTS7000215')?.code, 'INVALID_CLIENT_SECRET');
    assert.equal(explainAadsts('7000222')?.code, 'CLIENT_SECRET_EXPIRED');
    assert.equal(explainAadsts('AADSTS700027')?.code, 'INVALID_CLIENT_CERTIFICATE');
    assert.equal(explainAadsts('AADSTS90002')?.code, 'TENANT_NOT_FOUND');
    assert.equal(explainAadsts('AADSTS1'), undefined);
  });
  it('ok/find-in-description', () => {
    assert.equal(findAadsts('AADSTS7000215: Invalid client secret provided.'), 'AADSTS7000215');
    assert.equal(findAadsts('no code'), undefined);
  });
});

describe('retry', () => {
  it('ok/bounded-backoff: attempts, doubling delays, cap, Retry-After', async () => {
    const delays: number[] = [];
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new Error('boom');
        },
        () => ({ retry: true, retryAfterMs: calls === 1 ? 700 : undefined }),
        { attempts: 4, baseDelayMs: 100, maxDelayMs: 500 },
        async (ms) => void delays.push(ms),
      ),
      /boom/,
    );
    assert.equal(calls, 4);
    assert.deepEqual(delays, [500, 200, 400]);
  });
  it('ok/not-retryable: thrown at once', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new Error('final');
        },
        () => ({ retry: false }),
        { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
        async () => undefined,
      ),
    );
    assert.equal(calls, 1);
  });
  it('ok/statuses-and-retry-after', () => {
    assert.deepEqual([400, 401, 404, 408, 429, 500, 503, 599].map(isRetryableStatus), [
      false,
      false,
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z')), 10000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});
