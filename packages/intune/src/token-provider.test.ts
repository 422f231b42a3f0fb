import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { IntuneTokenError } from './errors.js';
import { IntuneScepValidator } from './scep-validator.js';
import { makeClientCert, type TestCert } from './testdata/certs.js';
import { CLIENT_ID, FakeIntune, INTUNE_SCOPE } from './testdata/fake-intune.js';
import { fakeClient } from './testdata/fake-client.js';

const CSR = 'MIIBcsr==';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('tokens', () => {
  let fake: FakeIntune;
  let registered: TestCert;
  let other: TestCert;
  before(async () => {
    fake = await FakeIntune.start();
    registered = makeClientCert('registered');
    other = makeClientCert('not-registered');
    fake.clientCertPem = registered.certPem;
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.tokenHook = undefined;
    fake.tokenExpiresIn = 3599;
  });

  it('ok/certificate-credential: PS256 client_assertion verified by the fake against the registered certificate', async () => {
    const client = fakeClient(fake, {
      clientSecret: undefined,
      clientCertificate: { privateKeyPem: registered.keyPem, certificatePem: registered.certPem },
    });
    try {
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      const forms = fake.of('token').map((r) => new URLSearchParams(r.body));
      assert.equal(forms.length, 2);
      for (const form of forms) {
        assert.equal(form.get('client_secret'), null);
        assert.equal(form.get('client_id'), CLIENT_ID);
        assert.equal(
          form.get('client_assertion_type'),
          'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        );
      }
      assert.equal(fake.of('scep').length, 1);
    } finally {
      await client.close();
    }
  });

  it('fail/certificate-not-registered: AADSTS700027 -> INVALID_CLIENT_CERTIFICATE, no Graph call', async () => {
    const client = fakeClient(fake, {
      clientSecret: undefined,
      clientCertificate: { privateKeyPem: other.keyPem, certificatePem: other.certPem },
    });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneTokenError);
      assert.equal(err.code, 'INVALID_CLIENT_CERTIFICATE');
      assert.equal(err.aadsts, 'AADSTS700027');
      assert.equal(err.oauthError, 'invalid_client');
      assert.equal(err.scope, fake.graphScope);
      assert.deepEqual(fake.counts(), { openid: 1, token: 1 });
    } finally {
      await client.close();
    }
  });

  it('fail/certificate-expired: refused locally with CLIENT_CERTIFICATE_EXPIRED, nothing sent', async () => {
    const client = fakeClient(fake, {
      clientSecret: undefined,
      clientCertificate: { privateKeyPem: registered.keyPem, certificatePem: registered.certPem },
      now: () => Date.parse('2100-01-01T00:00:00Z'),
    });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneTokenError);
      assert.equal(err.code, 'CLIENT_CERTIFICATE_EXPIRED');
      assert.match(err.message, /expired on/);
      assert.equal(fake.requests.length, 0);
    } finally {
      await client.close();
    }
  });

  it('fail/bad-secret: AADSTS7000215 -> INVALID_CLIENT_SECRET with a hint; the secret is not in the message', async () => {
    const client = fakeClient(fake, { clientSecret: 'wrong-secret-123' });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneTokenError);
      assert.equal(err.code, 'INVALID_CLIENT_SECRET');
      assert.equal(err.aadsts, 'AADSTS7000215');
      assert.match(err.hint, /AAD_APP_KEY/);
      assert.ok(!err.message.includes('wrong-secret-123'));
      assert.deepEqual(fake.counts(), { openid: 1, token: 1 });
    } finally {
      await client.close();
    }
  });

  const aadCases = [
    { name: 'fail/secret-expired', aadsts: 7000222, code: 'CLIENT_SECRET_EXPIRED' },
    { name: 'fail/wrong-tenant', aadsts: 90002, code: 'TENANT_NOT_FOUND' },
    { name: 'fail/app-not-in-tenant', aadsts: 700016, code: 'APPLICATION_NOT_FOUND' },
    { name: 'fail/unknown-aadsts', aadsts: 123456, code: 'TOKEN_ERROR' },
  ] as const;
  for (const c of aadCases) {
    it(`${c.name}: AADSTS${c.aadsts} -> ${c.code}`, async () => {
      fake.tokenHook = () => ({
        status: 400,
        body: {
          error: 'invalid_request',
          error_description: `AADSTS${c.aadsts}: something.`,
          error_codes: [c.aadsts],
        },
      });
      const client = fakeClient(fake);
      try {
        const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
        assert.ok(err instanceof IntuneTokenError);
        assert.equal(err.code, c.code);
        assert.equal(err.aadsts, `AADSTS${c.aadsts}`);
        assert.equal(fake.of('token').length, 1, '4xx token answers are not retried');
      } finally {
        await client.close();
      }
    });
  }

  it('ok/token-500-retried: the token call is retried after a 5xx', async () => {
    let n = 0;
    fake.tokenHook = () => (n++ === 0 ? { status: 500, body: { error: 'server_error' } } : undefined);
    const delays: number[] = [];
    const client = fakeClient(fake, { sleep: async (ms) => void delays.push(ms) });
    try {
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.deepEqual(fake.counts(), { openid: 1, token: 3, discovery: 1, scep: 1 });
      assert.deepEqual(delays, [200]);
    } finally {
      await client.close();
    }
  });

  it('fail/token-endpoint-unreachable: TOKEN_ENDPOINT_UNREACHABLE', async () => {
    const client = fakeClient(fake, { authorityHost: 'https://127.0.0.1:1/', retry: { attempts: 1 } });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneTokenError);
      assert.equal(err.code, 'TOKEN_ENDPOINT_UNREACHABLE');
    } finally {
      await client.close();
    }
  });

  it('ok/refresh-before-expiry: a token close to expiry is not reused; a fresh one is', async () => {
    fake.tokenExpiresIn = 120; // inside MSAL's 5-minute renewal window
    const client = fakeClient(fake);
    try {
      const validator = new IntuneScepValidator(client);
      await validator.validateRequest('tx', CSR);
      await validator.validateRequest('tx', CSR);
      const auths = fake.of('scep').map((r) => r.headers['authorization']);
      assert.equal(auths.length, 2);
      assert.notEqual(auths[0], auths[1]);
      assert.equal(
        fake.of('token').filter((r) => new URLSearchParams(r.body).get('scope')?.includes(INTUNE_SCOPE))
          .length,
        2,
      );
      fake.tokenExpiresIn = 3599;
      await validator.validateRequest('tx', CSR);
      await validator.validateRequest('tx', CSR);
      const [, , third, fourth] = fake.of('scep').map((r) => r.headers['authorization']);
      assert.equal(third, fourth, 'a long-lived token is served from the cache');
    } finally {
      await client.close();
    }
  });

  it('ok/held-token: repeated calls reuse the token without an MSAL lookup each time', async () => {
    const proto = ConfidentialClientApplication.prototype;
    const original = proto.acquireTokenByClientCredential;
    const scopes: string[] = [];
    proto.acquireTokenByClientCredential = function (this: ConfidentialClientApplication, request) {
      scopes.push(...(request.scopes ?? []));
      return original.call(this, request);
    };
    const client = fakeClient(fake);
    try {
      const validator = new IntuneScepValidator(client);
      for (let i = 0; i < 4; i++) await validator.validateRequest('tx', CSR);
      assert.equal(scopes.filter((s) => s.includes(INTUNE_SCOPE)).length, 1);
      const auths = new Set(fake.of('scep').map((r) => r.headers['authorization']));
      assert.equal(auths.size, 1, 'one token for the four calls');
    } finally {
      proto.acquireTokenByClientCredential = original;
      await client.close();
    }
  });
});
