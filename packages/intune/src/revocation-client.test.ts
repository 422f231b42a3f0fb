import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { IntuneArgumentError, IntuneProtocolError } from './errors.js';
import { IntuneRevocationClient } from './revocation-client.js';
import { FakeIntune } from './testdata/fake-intune.js';
import { fakeClient } from './testdata/fake-client.js';

describe('IntuneRevocationClient', () => {
  let fake: FakeIntune;
  before(async () => {
    fake = await FakeIntune.start();
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.serviceHook = undefined;
  });

  it('ok/download: request shape, api-version, parsed items', async () => {
    fake.serviceHook = () => ({
      status: 200,
      body: {
        '@odata.context':
          'https://manage.microsoft.com/RACerts/StatelessPkiConnectorService/$metadata#Collection(microsoft.management.services.api.caRevocationRequest)',
        value: [
          {
            requestContext: 'ctx-1',
            serialNumber: '0a1b',
            issuerName: 'CN=Issuing',
            caConfiguration: 'scepkit',
          },
          { RequestContext: 'ctx-2', SerialNumber: '0c2d' },
        ],
      },
    });
    const client = fakeClient(fake);
    try {
      const revocation = new IntuneRevocationClient(client);
      const { activityId, requests } = await revocation.downloadRevocationRequests({ maxRequests: 10 });
      const post = fake.of('pki')[0];
      assert.equal(post?.pathname, '/pki/CertificateAuthorityRequests/downloadRevocationRequests');
      assert.equal(post?.headers['api-version'], '5019-05-05');
      assert.equal(post?.headers['client-request-id'], activityId);
      assert.equal(post?.body, '{"downloadParameters":{"maxRequests":10,"issuerName":null}}');
      assert.deepEqual(requests, [
        {
          requestContext: 'ctx-1',
          serialNumber: '0a1b',
          issuerName: 'CN=Issuing',
          caConfiguration: 'scepkit',
        },
        { requestContext: 'ctx-2', serialNumber: '0c2d', issuerName: null, caConfiguration: null },
      ]);

      await revocation.downloadRevocationRequests({ maxRequests: 500, issuerName: 'CN=Issuing' });
      assert.deepEqual(JSON.parse(fake.of('pki')[1]?.body ?? ''), {
        downloadParameters: { maxRequests: 500, issuerName: 'CN=Issuing' },
      });
    } finally {
      await client.close();
    }
  });

  for (const bad of [0, -1, 501, 1.5]) {
    it(`fail/download-maxRequests-${bad}: IntuneArgumentError, nothing sent`, async () => {
      const client = fakeClient(fake);
      await assert.rejects(
        new IntuneRevocationClient(client).downloadRevocationRequests({ maxRequests: bad }),
        (e: unknown) => e instanceof IntuneArgumentError && e.argument === 'maxRequests',
      );
      assert.equal(fake.requests.length, 0);
      await client.close();
    });
  }

  const badDownloads = [
    { name: 'value-missing', body: { '@odata.context': 'x' } },
    { name: 'value-not-array', body: { value: 'nope' } },
    { name: 'item-without-serial', body: { value: [{ requestContext: 'c' }] } },
  ];
  for (const c of badDownloads) {
    it(`fail/download-${c.name}: IntuneProtocolError`, async () => {
      fake.serviceHook = () => ({ status: 200, body: c.body });
      const client = fakeClient(fake);
      try {
        await assert.rejects(
          new IntuneRevocationClient(client).downloadRevocationRequests({ maxRequests: 1 }),
          IntuneProtocolError,
        );
      } finally {
        await client.close();
      }
    });
  }

  it('ok/upload: Java wire shape (numeric-string errorCode, errorMessage omitted when absent)', async () => {
    const client = fakeClient(fake);
    try {
      const { activityId } = await new IntuneRevocationClient(client).uploadRevocationResults([
        { requestContext: 'ctx-1', succeeded: true, errorCode: 0 },
        { requestContext: 'ctx-2', succeeded: false, errorCode: 4004, errorMessage: 'unknown serial' },
        { requestContext: 'ctx-3', succeeded: false, errorCode: 4101 },
      ]);
      const post = fake.of('pki')[0];
      assert.equal(post?.pathname, '/pki/CertificateAuthorityRequests/uploadRevocationResults');
      assert.equal(post?.headers['client-request-id'], activityId);
      assert.equal(post?.headers['api-version'], '5019-05-05');
      assert.deepEqual(JSON.parse(post?.body ?? ''), {
        results: [
          { requestContext: 'ctx-1', succeeded: true, errorCode: '0' },
          { requestContext: 'ctx-2', succeeded: false, errorCode: '4004', errorMessage: 'unknown serial' },
          { requestContext: 'ctx-3', succeeded: false, errorCode: '4101' },
        ],
      });
    } finally {
      await client.close();
    }
  });

  const answers = [
    { name: 'ok/upload-answer-true', body: { value: true }, ok: true },
    { name: 'ok/upload-answer-string-true', body: { value: 'true' }, ok: true },
    { name: 'fail/upload-answer-false', body: { value: false }, ok: false },
    { name: 'fail/upload-answer-test', body: { value: 'test' }, ok: false },
    { name: 'fail/upload-answer-missing', body: {}, ok: false },
  ];
  for (const a of answers) {
    it(`${a.name}`, async () => {
      fake.serviceHook = () => ({ status: 200, body: a.body });
      const client = fakeClient(fake);
      try {
        const upload = new IntuneRevocationClient(client).uploadRevocationResults([
          { requestContext: 'ctx', succeeded: true, errorCode: 0 },
        ]);
        if (a.ok) await upload;
        else
          await assert.rejects(
            upload,
            (e: unknown) => e instanceof IntuneProtocolError && /not acknowledged/.test(e.message),
          );
        assert.equal(fake.of('pki').length, 1);
      } finally {
        await client.close();
      }
    });
  }

  it('fail/upload-arguments: empty list, success with an error code, unknown code; nothing sent', async () => {
    const client = fakeClient(fake);
    const revocation = new IntuneRevocationClient(client);
    await assert.rejects(revocation.uploadRevocationResults([]), { argument: 'results' });
    await assert.rejects(
      revocation.uploadRevocationResults([{ requestContext: 'c', succeeded: true, errorCode: 4000 }]),
      { argument: 'results[0].errorCode' },
    );
    await assert.rejects(
      revocation.uploadRevocationResults([{ requestContext: 'c', succeeded: false, errorCode: 0 }]),
      { argument: 'results[0].errorCode' },
    );
    await assert.rejects(
      // @ts-expect-error -- 4999 is not a CA request error code
      revocation.uploadRevocationResults([{ requestContext: 'c', succeeded: false, errorCode: 4999 }]),
      { argument: 'results[0].errorCode' },
    );
    assert.equal(fake.requests.length, 0);
    await client.close();
  });
});
