import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { IntuneTokenError } from './errors.js';
import { IntuneRevocationClient } from './revocation-client.js';
import { IntuneScepValidator } from './scep-validator.js';
import { ConnectProxy } from './testdata/connect-proxy.js';
import { FakeIntune } from './testdata/fake-intune.js';
import { fakeClient } from './testdata/fake-client.js';

describe('HTTP proxy', () => {
  let fake: FakeIntune;
  let proxy: ConnectProxy;
  before(async () => {
    fake = await FakeIntune.start();
    proxy = await ConnectProxy.start('scep', 'p@ss:word');
  });
  after(async () => {
    await proxy.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    proxy.tunnels.length = 0;
    proxy.refused = 0;
  });

  it('ok/basic-auth-tunnel: MSAL, Graph and Intune traffic all go through the proxy', async () => {
    const client = fakeClient(fake, { proxy: { url: proxy.url, username: 'scep', password: 'p@ss:word' } });
    try {
      await new IntuneScepValidator(client).validateRequest('tx', 'MIIBcsr==');
      await new IntuneRevocationClient(client).downloadRevocationRequests({ maxRequests: 1 });
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 1, scep: 1, pki: 1 });
      assert.ok(proxy.tunnels.length >= 1);
      assert.ok(proxy.tunnels.every((t) => t.target === `127.0.0.1:${fake.port}`));
      // Every connection the server saw was opened by the proxy.
      const proxied = new Set(proxy.tunnels.map((t) => t.upstreamPort));
      for (const r of fake.requests) assert.ok(proxied.has(r.remotePort), `${r.kind} bypassed the proxy`);
    } finally {
      await client.close();
    }
  });

  it('fail/bad-proxy-password: refused with 407, nothing reaches the server', async () => {
    const client = fakeClient(fake, {
      proxy: { url: proxy.url, username: 'scep', password: 'wrong' },
      retry: { attempts: 1 },
    });
    try {
      const err = await new IntuneScepValidator(client).validateRequest('tx', 'MIIBcsr==').then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof IntuneTokenError);
      assert.equal(err.code, 'TOKEN_ENDPOINT_UNREACHABLE');
      assert.ok(proxy.refused >= 1);
      assert.equal(fake.requests.length, 0);
    } finally {
      await client.close();
    }
  });
});
