import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createScepServer } from '../server.js';
import { adminFixture, ADMIN_PASSWORD, cookieOf, ORIGIN, signIn } from '../testing/admin-fixture.js';
import type { AdminFixture } from '../testing/admin-fixture.js';
import { singleCaPki } from '../testing/fixtures.js';
import { FakeBackend } from '../testing/fake-backend.js';

describe('admin console: authentication, sessions, CSRF, headers', () => {
  let f: AdminFixture;
  before(async () => {
    f = await adminFixture({ loginBurst: 3, loginRefillSeconds: 3600 });
  });
  after(() => f.close());

  const inject = (o: InjectOptions) => f.server.app.inject(o);

  it('ok/disabled-when-not-configured', async () => {
    const plain = createScepServer({
      endpoints: [{ path: '/scep', backend: new FakeBackend(new Uint8Array([0x30, 0])), pki: singleCaPki() }],
      rateLimit: false,
      metrics: { defaultMetrics: false },
    });
    for (const url of ['/admin', '/admin/', '/admin/api/summary', '/admin/ui/app.js']) {
      assert.equal((await plain.app.inject({ url })).statusCode, 404, url);
    }
    const login = await plain.app.inject({
      method: 'POST',
      url: '/admin/api/login',
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(login.statusCode, 404);
    await plain.close();
  });

  it('ok/ui-served-with-security-headers', async () => {
    for (const url of ['/admin', '/admin/']) {
      const r = await inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.headers['content-type'] as string, /^text\/html/);
      assert.match(r.body, /<script type="importmap">/);
      const csp = r.headers['content-security-policy'] as string;
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(r.headers['x-frame-options'], 'DENY');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    for (const url of [
      '/admin/ui/app.js',
      '/admin/vendor/preact.mjs',
      '/admin/vendor/hooks.mjs',
      '/admin/vendor/htm.mjs',
    ]) {
      const r = await inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8', url);
      assert.ok(r.headers['etag'], url);
      const again = await inject({ url, headers: { 'if-none-match': r.headers['etag'] as string } });
      assert.equal(again.statusCode, 304, url);
    }
    assert.equal(
      (await inject({ url: '/admin/ui/style.css' })).headers['content-type'],
      'text/css; charset=utf-8',
    );
    assert.equal((await inject({ url: '/admin/ui/nope.js' })).statusCode, 404);
    assert.equal((await inject({ url: '/admin/ui/..%2Fpackage.json' })).statusCode, 404);
    assert.equal((await inject({ url: '/admin/vendor/fastify.mjs' })).statusCode, 404);
    const missing = await inject({ url: '/admin/no-such-page' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['x-frame-options'], 'DENY', 'security headers on every /admin answer');
    assert.ok(missing.headers['content-security-policy']);
  });

  it('fail/api-without-session-401', async () => {
    for (const url of [
      '/admin/api/summary',
      '/admin/api/activity',
      '/admin/api/certificates',
      '/admin/api/audit',
      '/admin/api/session',
    ]) {
      const r = await inject({ url });
      assert.equal(r.statusCode, 401, url);
      assert.equal(r.json().error, 'unauthenticated');
      assert.equal(r.headers['cache-control'], 'no-store');
    }
    const revoke = await inject({
      method: 'POST',
      url: '/admin/api/certificates/ab/revoke',
      headers: { origin: ORIGIN, 'x-csrf-token': 'x' },
      payload: { reason: 'keyCompromise' },
    });
    assert.equal(revoke.statusCode, 401);
    const forged = await inject({ url: '/admin/api/summary', headers: { cookie: 'scepkit_admin=forged' } });
    assert.equal(forged.statusCode, 401);
  });

  it('ok/login-sets-secure-session-cookie-and-audits', async () => {
    const r = await inject({
      method: 'POST',
      url: '/admin/api/login',
      headers: { origin: ORIGIN },
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(r.statusCode, 200);
    const setCookie = r.headers['set-cookie'] as string;
    assert.match(setCookie, /^scepkit_admin=[A-Za-z0-9_-]{43};/);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/admin', 'Max-Age=3600']) {
      assert.ok(setCookie.includes(attr), attr);
    }
    const body = r.json() as { actor: string; csrfToken: string };
    assert.equal(body.actor, 'console');
    assert.match(body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!r.body.includes(cookieOf(r).split('=')[1]!), 'the session id is not in the body');
    const session = await inject({ url: '/admin/api/session', headers: { cookie: cookieOf(r) } });
    assert.equal(session.statusCode, 200);
    assert.equal(session.json().csrfToken, body.csrfToken);
    const [event] = await f.store.queryAudit({ action: 'login', limit: 1 });
    assert.equal(event?.actor, 'admin:console');
  });

  it('fail/wrong-password-401-audited-then-rate-limited', async () => {
    const attempt = (password: string, remoteAddress = '10.0.0.9') =>
      inject({
        method: 'POST',
        url: '/admin/api/login',
        remoteAddress,
        headers: { origin: ORIGIN },
        payload: { password },
      });
    const before = (await f.store.queryAudit({ action: 'login-failed' })).length;
    for (let i = 0; i < 3; i++) {
      const r = await attempt('wrong password');
      assert.equal(r.statusCode, 401);
      assert.equal(r.json().error, 'bad-credentials');
      assert.equal(r.headers['set-cookie'], undefined);
    }
    const events = await f.store.queryAudit({ action: 'login-failed' });
    assert.equal(events.length - before, 3);
    assert.equal(events[0]?.actor, 'admin:console');
    assert.equal(events[0]?.details['remoteAddress'], '10.0.0.9');
    assert.ok(!JSON.stringify(events).includes('wrong password'), 'the tried password is not audited');
    // The burst is spent: even the right password waits, without a scrypt run or an audit event.
    const limited = await attempt(ADMIN_PASSWORD);
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await f.store.queryAudit({ action: 'login-failed' })).length - before, 3);
    // Another address is not affected.
    assert.equal((await attempt(ADMIN_PASSWORD, '10.0.0.10')).statusCode, 200);
  });

  it('fail/login-cross-origin-or-plain-http-403', async () => {
    const crossOrigin = await inject({
      method: 'POST',
      url: '/admin/api/login',
      headers: { origin: 'https://evil.example' },
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(crossOrigin.statusCode, 403);
    assert.equal(crossOrigin.json().error, 'bad-origin');
    const crossSite = await inject({
      method: 'POST',
      url: '/admin/api/login',
      headers: { 'sec-fetch-site': 'cross-site' },
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(crossSite.statusCode, 403);
    // A Secure cookie would be dropped over plain HTTP to a non-loopback host: refuse with the reason.
    const plainHttp = await inject({
      method: 'POST',
      url: '/admin/api/login',
      headers: { host: 'ca.example.test', origin: 'http://ca.example.test' },
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(plainHttp.statusCode, 403);
    assert.equal(plainHttp.json().error, 'https-required');
  });

  it('fail/csrf-token-missing-or-wrong-403', async () => {
    const s = await signIn(f.server);
    const [c] = await Promise.all([f.enroll({ cn: 'csrf-target' })]);
    assert.equal(c.status, 'SUCCESS');
    const serial = c.status === 'SUCCESS' ? c.serial : '';
    const post = (headers: Record<string, string>) =>
      inject({
        method: 'POST',
        url: `/admin/api/certificates/${serial}/revoke`,
        headers: { cookie: s.cookie, ...headers },
        payload: { reason: 'keyCompromise' },
      });
    const cases: Array<Record<string, string>> = [
      { origin: ORIGIN },
      { origin: ORIGIN, 'x-csrf-token': 'wrong' },
      { origin: ORIGIN, 'x-csrf-token': `${s.csrf}x` },
      { origin: 'https://evil.example', 'x-csrf-token': s.csrf },
    ];
    for (const headers of cases) {
      const r = await post(headers);
      assert.equal(r.statusCode, 403, JSON.stringify(headers));
    }
    assert.equal((await f.store.getCertificate(serial))?.status, 'valid', 'nothing was revoked');
    const logout = await inject({
      method: 'POST',
      url: '/admin/api/logout',
      headers: { cookie: s.cookie, origin: ORIGIN },
      payload: {},
    });
    assert.equal(logout.statusCode, 403, 'logout needs the token too');
  });

  it('ok/logout-ends-the-session', async () => {
    const s = await signIn(f.server);
    const r = await inject({
      method: 'POST',
      url: '/admin/api/logout',
      headers: { cookie: s.cookie, origin: ORIGIN, 'x-csrf-token': s.csrf },
      payload: {},
    });
    assert.equal(r.statusCode, 204);
    assert.match(r.headers['set-cookie'] as string, /Max-Age=0/);
    assert.equal(
      (await inject({ url: '/admin/api/summary', headers: { cookie: s.cookie } })).statusCode,
      401,
    );
  });

  it('ok/session-expires', async () => {
    const s = await signIn(f.server);
    assert.equal(
      (await inject({ url: '/admin/api/summary', headers: { cookie: s.cookie } })).statusCode,
      200,
    );
    f.clock.ms += 61 * 60_000;
    assert.equal(
      (await inject({ url: '/admin/api/summary', headers: { cookie: s.cookie } })).statusCode,
      401,
    );
  });
});

describe('admin console behind a TLS reverse proxy (trustProxy)', () => {
  let f: AdminFixture;
  before(async () => {
    f = await adminFixture({}, { trustProxy: true });
  });
  after(() => f.close());

  it('ok/forwarded-https-host-signs-in-and-acts', async () => {
    const forwarded = {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'ca.example.test',
      host: '127.0.0.1:8080',
    };
    const login = await f.server.app.inject({
      method: 'POST',
      url: '/admin/api/login',
      headers: { ...forwarded, origin: 'https://ca.example.test' },
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(login.statusCode, 200, login.body);
    const csrf = (login.json() as { csrfToken: string }).csrfToken;
    const logout = await f.server.app.inject({
      method: 'POST',
      url: '/admin/api/logout',
      headers: {
        ...forwarded,
        origin: 'https://ca.example.test',
        cookie: cookieOf(login),
        'x-csrf-token': csrf,
      },
      payload: {},
    });
    assert.equal(logout.statusCode, 204);
    // Without the forwarded headers the proxy's own address is seen: the browser's Origin does not match.
    const direct = await f.server.app.inject({
      method: 'POST',
      url: '/admin/api/login',
      headers: { host: '127.0.0.1:8080', origin: 'https://ca.example.test' },
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(direct.statusCode, 403);
  });
});
