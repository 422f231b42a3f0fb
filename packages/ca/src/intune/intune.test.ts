import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IntuneHttpError,
  IntuneServiceError,
  type FailureNotification,
  type RevocationRequest,
  type RevocationResult,
  type ScepActionResult,
  type SuccessNotification,
} from '@scepkit/intune';
import { harness } from '../testing/authority-fixture.js';
import { makeCsr } from '../testing/csr.js';
import type { EnrollRequest, EnrollResult } from '../enroll/types.js';
import { nameToString } from '../init/names.js';
import type { IssuanceProfileOptions } from '../policy/profile.js';
import { IntuneChallengeVerifier, type IntuneValidatorLike } from './intune-verifier.js';
import { IntuneOutboxWorker } from './outbox-worker.js';
import { IntuneRevocationWorker, normalizeSerial } from './revocation-worker.js';
import { INTUNE_HRESULTS, hresultHex } from './hresult.js';

const ANSWER: ScepActionResult = { activityId: 'a' } as ScepActionResult;

function serviceError(code: string): IntuneServiceError {
  return Object.assign(Object.create(IntuneServiceError.prototype) as IntuneServiceError, {
    code,
    message: code,
  });
}

function httpError(status: number): IntuneHttpError {
  return Object.assign(Object.create(IntuneHttpError.prototype) as IntuneHttpError, {
    status,
    odataCode: 'InternalError',
    message: `HTTP ${status}`,
  });
}

/** A scripted Intune: each call pops its next outcome (an error to throw) or answers Success. */
class FakeIntune implements IntuneValidatorLike {
  validate: (Error | null)[] = [];
  success: (Error | null)[] = [];
  failure: (Error | null)[] = [];
  calls = { validate: 0, success: [] as SuccessNotification[], failure: [] as FailureNotification[] };
  async validateRequest(): Promise<ScepActionResult> {
    this.calls.validate++;
    const e = this.validate.shift();
    if (e) throw e;
    return ANSWER;
  }
  async sendSuccessNotification(n: SuccessNotification): Promise<ScepActionResult> {
    this.calls.success.push(n);
    const e = this.success.shift();
    if (e) throw e;
    return ANSWER;
  }
  async sendFailureNotification(n: FailureNotification): Promise<ScepActionResult> {
    this.calls.failure.push(n);
    const e = this.failure.shift();
    if (e) throw e;
    return ANSWER;
  }
}

const pkcsReq = (transactionId: string, csrDer: Uint8Array, profile = 'intune'): EnrollRequest => ({
  messageType: 'PKCSReq',
  transactionId,
  csrDer,
  profile,
});

function success(r: EnrollResult) {
  if (r.status !== 'SUCCESS') throw new Error(`expected SUCCESS, got ${r.status}`);
  return r;
}

async function setup(policy: IssuanceProfileOptions = {}) {
  const intune = new FakeIntune();
  const h = await harness((store) => ({
    intune: { verifier: new IntuneChallengeVerifier({ validator: intune, store }), policy },
  }));
  return { intune, h };
}

test('ok/validated-issued-success-notification-then-replay-skips-intune', async () => {
  const { intune, h } = await setup();
  try {
    const csr = await makeCsr({ challenge: 'intune-blob', subject: 'CN=dev-1' });
    const r = success(await h.authority.enroll(pkcsReq('tx-1', csr)));
    assert.equal(intune.calls.validate, 1);
    const [n] = intune.calls.success;
    assert.equal(n?.serialNumber, r.serial);
    assert.match(n?.thumbprint ?? '', /^[0-9a-f]{40}$/);
    assert.equal(n?.csr, Buffer.from(csr).toString('base64'));
    const tx = await h.store.getTransaction({ transactionId: 'tx-1', profile: 'intune' });
    assert.equal(tx?.notified, true);
    // The device retries the same transaction: same certificate, Intune is not asked again.
    const again = success(await h.authority.enroll(pkcsReq('tx-1', csr)));
    assert.equal(again.serial, r.serial);
    assert.equal(intune.calls.validate, 1);
    assert.equal(intune.calls.success.length, 1);
  } finally {
    await h.close();
  }
});

test('fail/any-non-success-is-refused-fail-closed', async () => {
  const { intune, h } = await setup();
  try {
    const cases: [string, Error][] = [
      ['ChallengeExpired', serviceError('ChallengeExpired')],
      ['HTTP 500', httpError(500)],
      ['timeout', Object.assign(new Error('timeout'), { name: 'IntuneNetworkError' })],
    ];
    for (const [i, [name, err]] of cases.entries()) {
      intune.validate.push(err);
      const csr = await makeCsr({ challenge: 'blob', subject: `CN=dev-${i}`, slot: i + 1 });
      await assert.rejects(h.authority.enroll(pkcsReq(`tx-f${i}`, csr)), /challenge refused/, name);
      const tx = await h.store.getTransaction({ transactionId: `tx-f${i}`, profile: 'intune' });
      assert.match(tx?.reason ?? '', new RegExp(name === 'timeout' ? 'Intune' : name));
    }
    // No challenge at all: refused without asking Intune.
    const before = intune.calls.validate;
    const bare = await makeCsr({ subject: 'CN=bare', slot: 5 });
    await assert.rejects(h.authority.enroll(pkcsReq('tx-bare', bare)), /ChallengePasswordMissing/);
    assert.equal(intune.calls.validate, before);
    assert.equal(intune.calls.failure.length, 0, 'no failure notification for Intune refusals');
  } finally {
    await h.close();
  }
});

test('fail/success-notification-fails-certificate-revoked-retry-issues', async () => {
  const { intune, h } = await setup();
  try {
    intune.success.push(httpError(500));
    const csr = await makeCsr({ challenge: 'blob', subject: 'CN=dev-s', slot: 6 });
    await assert.rejects(h.authority.enroll(pkcsReq('tx-s', csr)), /hook failed/);
    const [withheld] = await h.store.searchCertificates({ transactionId: 'tx-s' });
    assert.equal(withheld?.status, 'revoked');
    const r = success(await h.authority.enroll(pkcsReq('tx-s', csr)));
    assert.notEqual(r.serial, withheld?.serial);
    assert.equal(intune.calls.success.length, 2);
  } finally {
    await h.close();
  }
});

test('ok/policy-refusal-failure-notification-queued-then-delivered-by-worker', async () => {
  const { intune, h } = await setup({ keys: { rsaMinBits: 4096 } });
  try {
    intune.failure.push(httpError(503));
    const csr = await makeCsr({ challenge: 'blob', subject: 'CN=dev-p', kind: 'rsa2048' });
    await assert.rejects(h.authority.enroll(pkcsReq('tx-p', csr)));
    assert.equal(intune.calls.failure.length, 1);
    const n = intune.calls.failure[0]!;
    assert.equal(n.hResult, INTUNE_HRESULTS.refused);
    assert.ok(n.errorDescription.length > 0 && n.errorDescription.length <= 255);
    assert.equal(hresultHex(n.hResult), '0x80004005');

    let now = h.clock.now.getTime();
    const worker = new IntuneOutboxWorker({
      store: h.store,
      validator: intune,
      owner: 'node-a',
      clock: () => new Date(now),
    });
    const other = new IntuneOutboxWorker({ store: h.store, validator: intune, owner: 'node-b' });
    intune.failure.push(httpError(500));
    assert.deepEqual(await worker.runOnce(), { delivered: 0, rescheduled: 1, abandoned: 0 });
    // Not due yet (backoff), and leased items are not handed to another node.
    assert.deepEqual(await other.runOnce(), { delivered: 0, rescheduled: 0, abandoned: 0 });
    now += 60_000;
    h.clock.now = new Date(now);
    assert.deepEqual(await worker.runOnce(), { delivered: 1, rescheduled: 0, abandoned: 0 });
    assert.equal(intune.calls.failure.length, 3);
    const tx = await h.store.getTransaction({ transactionId: 'tx-p', profile: 'intune' });
    assert.equal(tx?.notified, true);
    assert.deepEqual(await worker.runOnce(), { delivered: 0, rescheduled: 0, abandoned: 0 });
  } finally {
    await h.close();
  }
});

class FakeRevocation {
  queue: RevocationRequest[] = [];
  uploads: RevocationResult[][] = [];
  failUpload = false;
  async downloadRevocationRequests() {
    return { requests: [...this.queue] };
  }
  async uploadRevocationResults(results: readonly RevocationResult[]) {
    if (this.failUpload) throw httpError(503);
    this.uploads.push([...results]);
    this.queue = this.queue.filter((q) => !results.some((r) => r.requestContext === q.requestContext));
    return {};
  }
}

test('ok/revocation-worker-codes-dedupe-and-other-issuers', async () => {
  const { h } = await setup();
  try {
    const a = success(
      await h.authority.enroll(
        pkcsReq('tx-r1', await makeCsr({ challenge: 'b', subject: 'CN=r1', slot: 8 })),
      ),
    );
    const b = success(
      await h.authority.enroll(
        pkcsReq('tx-r2', await makeCsr({ challenge: 'b', subject: 'CN=r2', slot: 9 })),
      ),
    );
    await h.authority.revoke(b.serial, 1, 'admin');
    const issuer = nameToString(h.authority.ca.subjectDer);
    const client = new FakeRevocation();
    const req = (requestContext: string, serialNumber: string, issuerName: string | null = issuer) => ({
      requestContext,
      serialNumber,
      issuerName,
      caConfiguration: null,
    });
    client.queue = [
      req('c-ok', a.serial.toUpperCase()),
      req('c-already', b.serial),
      req('c-missing', 'abcdef'),
      req('c-other-ca', a.serial, 'CN=Someone Else CA'),
    ];
    const worker = new IntuneRevocationWorker({
      client,
      store: h.store,
      revoke: (...args) => h.authority.revoke(...args),
      issuerName: issuer,
    });
    client.failUpload = true;
    await assert.rejects(worker.runOnce());
    assert.equal((await h.store.getCertificate(a.serial))?.status, 'revoked');
    // Intune hands the same requests again after the failed upload: answered from the record, not revoked twice.
    client.failUpload = false;
    const run = await worker.runOnce();
    const codes = Object.fromEntries(run.results.map((r) => [r.requestContext, r.errorCode]));
    assert.deepEqual(codes, { 'c-ok': 0, 'c-already': 4005, 'c-missing': 4004 });
    assert.equal(run.results.find((r) => r.requestContext === 'c-ok')?.succeeded, true);
    assert.equal(client.queue.length, 1, 'the other CA request is left alone');
    const crl = await h.store.listRevoked();
    assert.ok(crl.some((e) => e.serial === a.serial));
  } finally {
    await h.close();
  }
});

test('ok/normalize-serial', () => {
  assert.equal(normalizeSerial('00:0A:1b'), 'a1b');
  assert.equal(normalizeSerial('0'), '0');
  assert.equal(normalizeSerial('zz'), '');
});
