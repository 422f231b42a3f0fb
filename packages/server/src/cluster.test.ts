import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrimaryUnreachableError, workerAdminSessions, workerClusterMetrics } from './cluster.js';
import { localAdminSessions } from './admin/sessions.js';
import { adminFixture, signIn } from './testing/admin-fixture.js';

// The cluster itself (a primary and real workers) runs in packages/cli/src/cluster.test.ts; here, what a worker
// does when its primary does not answer, and the in-memory backend the primary serves from.
describe('cluster: a worker without its primary', () => {
  it('fail/calls-reject-typed-outside-a-cluster', async () => {
    // This test process is no cluster worker: there is no primary to ask.
    const sessions = workerAdminSessions();
    await assert.rejects(sessions.get('some-session-id'), PrimaryUnreachableError);
    await assert.rejects(sessions.create('console'), PrimaryUnreachableError);
    await assert.rejects(sessions.loginWait('127.0.0.1'), PrimaryUnreachableError);
    await assert.rejects(workerClusterMetrics(), PrimaryUnreachableError);
    // Malformed ids never leave the worker.
    assert.equal(await sessions.get(undefined), undefined);
    assert.equal(await sessions.get('x'.repeat(101)), undefined);
  });

  it('fail/console-answers-503-when-the-primary-is-out-of-reach', async () => {
    const local = localAdminSessions({ sessionTtlMinutes: 60, loginBurst: 5, loginRefillSeconds: 60 });
    let reachable = true;
    const guard =
      <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
      (...a: A): Promise<R> =>
        reachable ? fn(...a) : Promise.reject(new PrimaryUnreachableError('primary gone'));
    const f = await adminFixture({
      sessions: {
        create: guard(local.create),
        get: guard(local.get),
        delete: guard(local.delete),
        loginWait: guard(local.loginWait),
        loginFailed: guard(local.loginFailed),
      },
    });
    try {
      const s = await signIn(f.server);
      const ok = await f.server.app.inject({ url: '/admin/api/summary', headers: { cookie: s.cookie } });
      assert.equal(ok.statusCode, 200);
      reachable = false;
      const r = await f.server.app.inject({ url: '/admin/api/summary', headers: { cookie: s.cookie } });
      assert.equal(r.statusCode, 503);
      assert.equal(r.json().error, 'unavailable');
      const login = await f.server.app.inject({ url: '/admin/api/session', headers: { cookie: s.cookie } });
      assert.equal(login.statusCode, 503);
      reachable = true;
      const again = await f.server.app.inject({ url: '/admin/api/summary', headers: { cookie: s.cookie } });
      assert.equal(again.statusCode, 200);
    } finally {
      await f.close();
    }
  });

  it('fail/metrics-answer-503-when-the-primary-is-out-of-reach', async () => {
    const f = await adminFixture({}, { metricsText: workerClusterMetrics });
    try {
      const r = await f.server.app.inject({ url: '/metrics' });
      assert.equal(r.statusCode, 503);
      assert.match(r.body, /metrics unavailable/);
    } finally {
      await f.close();
    }
  });
});
