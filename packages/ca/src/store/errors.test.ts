import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError, isPostgresUnavailable, isStoreUnavailable } from './errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('isPostgresUnavailable: socket errors, connection-exception SQLSTATEs and pg driver messages', () => {
  for (const e of [
    withCode('ECONNREFUSED'),
    withCode('ECONNRESET'),
    withCode('ETIMEDOUT'),
    withCode('08006'),
    withCode('08001'),
    withCode('57P01', 'terminating connection due to administrator command'),
    withCode('57P03', 'the database system is starting up'),
    withCode('53300', 'too many clients already'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Client was closed and is not queryable'),
  ]) {
    assert.equal(isPostgresUnavailable(e), true, e.message);
  }
  for (const e of [
    withCode('23505', 'duplicate key value violates unique constraint'),
    withCode('42P01', 'relation "certificates" does not exist'),
    withCode('22P02', 'invalid input syntax'),
    new Error('terminated by a policy'),
    undefined,
    null,
    'ECONNREFUSED',
  ]) {
    assert.equal(isPostgresUnavailable(e), false, String(e));
  }
});

test('isStoreUnavailable: a StoreError with code unavailable, also as a cause', () => {
  const down = new StoreError('unavailable', 'PostgreSQL is unavailable', withCode('ECONNREFUSED'));
  assert.equal(isStoreUnavailable(down), true);
  assert.equal(isStoreUnavailable(new Error('enrollment failed', { cause: down })), true);
  assert.equal(isStoreUnavailable(new StoreError('database', 'PostgreSQL error')), false);
  assert.equal(
    isStoreUnavailable(withCode('ECONNREFUSED')),
    false,
    'a raw driver error is not classified here',
  );
  const loop: { cause?: unknown } = {};
  loop.cause = loop;
  assert.equal(isStoreUnavailable(loop), false, 'a cause cycle ends');
});
