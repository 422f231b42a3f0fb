import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { IntuneArgumentError, IntuneServiceError } from './errors.js';
import { IntuneScepValidator } from './scep-validator.js';
import { CLIENT_ID, CLIENT_SECRET, FakeIntune, INTUNE_SCOPE, TENANT } from './testdata/fake-intune.js';
import { fakeClient, recordingLogger } from './testdata/fake-client.js';

const CSR = 'MIIBfake+csr/base64==';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('IntuneScepValidator', () => {
  let fake: FakeIntune;
  before(async () => {
    fake = await FakeIntune.start();
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.serviceHook = undefined;
  });

  it('ok/cold-call-then-warm-call: exact requests, headers, scopes and body', async () => {
    const logger = recordingLogger();
    const client = fakeClient(fake, { logger });
    const validator = new IntuneScepValidator(client);
    try {
      const { activityId } = await validator.validateRequest('tx-1', CSR);
      assert.match(activityId, UUID);
      assert.deepEqual(
        fake.requests.map((r) => `${r.method} ${r.pathname}`),
        [
          `GET /${TENANT}/v2.0/.well-known/openid-configuration`,
          `POST /${TENANT}/oauth2/v2.0/token`,
          'GET /v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints',
          `POST /${TENANT}/oauth2/v2.0/token`,
          'POST /scep/ScepActions/validateRequest',
        ],
      );
      const [graphToken, intuneToken] = fake.of('token').map((r) => new URLSearchParams(r.body));
      assert.equal(graphToken?.get('grant_type'), 'client_credentials');
      assert.equal(graphToken?.get('client_id'), CLIENT_ID);
      assert.equal(graphToken?.get('client_secret'), CLIENT_SECRET);
      assert.deepEqual(
        graphToken
          ?.get('scope')
          ?.split(' ')
          .filter((s) => s.endsWith('.default')),
        [fake.graphScope],
      );
      assert.equal(fake.graphScope, `https://127.0.0.1:${fake.port}/.default`);
      // Microsoft's Intune scope has a double slash.
      assert.deepEqual(
        intuneToken
          ?.get('scope')
          ?.split(' ')
          .filter((s) => s.endsWith('.default')),
        [INTUNE_SCOPE],
      );

      const discovery = fake.of('discovery')[0];
      assert.equal(discovery?.headers['authorization'], 'Bearer graph-token-1');
      assert.match(String(discovery?.headers['client-request-id']), UUID);

      const post = fake.of('scep')[0];
      assert.equal(post?.headers['authorization'], 'Bearer intune-token-2');
      assert.equal(post?.headers['client-request-id'], activityId);
      assert.equal(post?.headers['api-version'], '2018-02-20');
      assert.equal(post?.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(post?.headers['useragent'], 'scepkit-test/1.2.3');
      assert.deepEqual(JSON.parse(post?.body ?? ''), {
        request: { transactionId: 'tx-1', certificateRequest: CSR, callerInfo: 'scepkit-test/1.2.3' },
      });

      fake.requests.length = 0;
      const warm = await validator.validateRequest('tx-2', CSR);
      assert.deepEqual(
        fake.requests.map((r) => r.kind),
        ['scep'],
      );
      assert.notEqual(warm.activityId, activityId);
      assert.equal(fake.requests[0]?.headers['client-request-id'], warm.activityId);
      assert.equal(fake.requests[0]?.headers['authorization'], 'Bearer intune-token-2');

      const serialized = JSON.stringify(logger.lines);
      for (const secret of [CSR, CLIENT_SECRET, 'graph-token-1', 'intune-token-2']) {
        assert.ok(!serialized.includes(secret), `log must not contain ${secret}`);
      }
      const done = logger.lines.filter((l) => l.level === 'info' && l.obj['op'] === 'validateRequest');
      assert.deepEqual(
        done.map((l) => [l.obj['activityId'], l.obj['transactionId'], l.obj['code']]),
        [
          [activityId, 'tx-1', 'Success'],
          [warm.activityId, 'tx-2', 'Success'],
        ],
      );
    } finally {
      await client.close();
    }
  });

  it('ok/success-notification: body with ISO expiry, thumbprint and CA fields', async () => {
    const client = fakeClient(fake);
    try {
      await new IntuneScepValidator(client).sendSuccessNotification({
        transactionId: 'tx-3',
        csr: CSR,
        thumbprint: 'a9993e364706816aba3e25717850c26c9cd0d89d',
        serialNumber: '1a2b3c',
        expiration: new Date('2027-11-27T03:00:00.123Z'),
        issuingCertificateAuthority: 'CN=scepkit Issuing CA',
        caConfiguration: 'scepkit',
      });
      const post = fake.of('scep')[0];
      assert.equal(post?.pathname, '/scep/ScepActions/successNotification');
      assert.deepEqual(JSON.parse(post?.body ?? ''), {
        notification: {
          transactionId: 'tx-3',
          certificateRequest: CSR,
          certificateThumbprint: 'a9993e364706816aba3e25717850c26c9cd0d89d',
          certificateSerialNumber: '1a2b3c',
          certificateExpirationDateUtc: '2027-11-27T03:00:00.123Z',
          issuingCertificateAuthority: 'CN=scepkit Issuing CA',
          callerInfo: 'scepkit-test/1.2.3',
          caConfiguration: 'scepkit',
          certificateAuthority: null,
        },
      });
    } finally {
      await client.close();
    }
  });

  it('ok/success-notification-offset-expiry: expiration normalized to UTC with Z', async () => {
    const client = fakeClient(fake);
    try {
      await new IntuneScepValidator(client).sendSuccessNotification({
        transactionId: 'tx-3b',
        csr: CSR,
        thumbprint: 'A9993E364706816ABA3E25717850C26C9CD0D89D',
        serialNumber: '01',
        expiration: '2027-11-27T05:00:00+02:00',
        issuingCertificateAuthority: 'CN=x',
      });
      const body = JSON.parse(fake.of('scep')[0]?.body ?? '') as { notification: Record<string, unknown> };
      assert.equal(body.notification['certificateExpirationDateUtc'], '2027-11-27T03:00:00.000Z');
      assert.equal(body.notification['certificateThumbprint'], 'A9993E364706816ABA3E25717850C26C9CD0D89D');
    } finally {
      await client.close();
    }
  });

  it('ok/failure-notification-unsigned-hresult: 0x8000ffff is sent as the signed -2147418113', async () => {
    const client = fakeClient(fake);
    try {
      await new IntuneScepValidator(client).sendFailureNotification({
        transactionId: 'tx-4b',
        csr: CSR,
        hResult: 0x8000ffff,
        errorDescription: 'E_UNEXPECTED',
      });
      assert.match(fake.of('scep')[0]?.body ?? '', /"hResult":-2147418113,/);
    } finally {
      await client.close();
    }
  });

  it('ok/failure-notification: hResult as a signed JSON integer', async () => {
    const client = fakeClient(fake);
    try {
      await new IntuneScepValidator(client).sendFailureNotification({
        transactionId: 'tx-4',
        csr: CSR,
        hResult: 0x8000ffff | 0,
        errorDescription: 'CA refused the key size',
      });
      const post = fake.of('scep')[0];
      assert.equal(post?.pathname, '/scep/ScepActions/failureNotification');
      assert.match(post?.body ?? '', /"hResult":-2147418113,/);
      assert.deepEqual(JSON.parse(post?.body ?? ''), {
        notification: {
          transactionId: 'tx-4',
          certificateRequest: CSR,
          hResult: -2147418113,
          errorDescription: 'CA refused the key size',
          callerInfo: 'scepkit-test/1.2.3',
        },
      });
    } finally {
      await client.close();
    }
  });

  const failures = [
    { name: 'fail/ChallengeExpired', raw: 'ChallengeExpired', parsed: 'ChallengeExpired' },
    { name: 'fail/BadTenantIdInChallenge', raw: 'BadTenantIdInChallenge', parsed: 'BadTenantIdInChallenge' },
    { name: 'fail/unknown-code', raw: 'SomethingBrandNew', parsed: 'Unknown' },
    { name: 'fail/code-is-case-sensitive', raw: 'success', parsed: 'Unknown' },
  ] as const;
  for (const f of failures) {
    it(`${f.name}: IntuneServiceError with parsed and raw code, never retried`, async () => {
      fake.serviceHook = () => ({ status: 200, body: { code: f.raw, errorDescription: `desc of ${f.raw}` } });
      const client = fakeClient(fake);
      try {
        const err = await new IntuneScepValidator(client).validateRequest('tx-5', CSR).then(
          () => assert.fail('expected a rejection'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof IntuneServiceError);
        assert.equal(err.code, f.parsed);
        assert.equal(err.rawCode, f.raw);
        assert.equal(err.description, `desc of ${f.raw}`);
        assert.equal(err.transactionId, 'tx-5');
        assert.equal(err.activityId, fake.of('scep')[0]?.headers['client-request-id']);
        assert.equal(fake.of('scep').length, 1);
      } finally {
        await client.close();
      }
    });
  }

  it('fail/arguments: missing csr, long errorDescription, bad expiration; nothing sent', async () => {
    const validator = new IntuneScepValidator(fakeClient(fake));
    await assert.rejects(validator.validateRequest('tx', ''), {
      name: 'IntuneArgumentError',
      argument: 'csr',
    });
    await assert.rejects(
      validator.sendFailureNotification({
        transactionId: 't',
        csr: CSR,
        hResult: 1,
        errorDescription: 'x'.repeat(256),
      }),
      (e: unknown) => e instanceof IntuneArgumentError && e.argument === 'errorDescription',
    );
    await assert.rejects(
      validator.sendSuccessNotification({
        transactionId: 't',
        csr: CSR,
        thumbprint: 'a9993e364706816aba3e25717850c26c9cd0d89d',
        serialNumber: '01',
        expiration: 'tomorrow',
        issuingCertificateAuthority: 'CN=x',
      }),
      { argument: 'expiration' },
    );
    await assert.rejects(
      validator.sendSuccessNotification({
        transactionId: 't',
        csr: CSR,
        thumbprint: 'ab'.repeat(32), // a SHA-256 thumbprint by mistake
        serialNumber: '01',
        expiration: new Date(),
        issuingCertificateAuthority: 'CN=x',
      }),
      { argument: 'thumbprint' },
    );
    await assert.rejects(
      validator.sendFailureNotification({
        transactionId: 't',
        csr: CSR,
        hResult: 2 ** 32,
        errorDescription: 'x',
      }),
      { argument: 'hResult' },
    );
    assert.equal(fake.requests.length, 0);
    await validator.client.close();
  });
});
