import { test } from 'node:test';
import assert from 'node:assert/strict';
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { EnrollmentError, type FailInfo } from '../errors.js';
import { NoneChallengeVerifier } from '../challenge/none-verifier.js';
import { OtpChallengeVerifier } from '../challenge/otp-verifier.js';
import { StaticChallengeVerifier } from '../challenge/static-verifier.js';
import type { ChallengeRequest, ChallengeVerifier, IssuedCertificateInfo } from '../challenge/types.js';
import { HRESULT_E_FAIL } from './authority.js';
import type { EnrollRequest, EnrollResult } from './types.js';
import { harness } from '../testing/authority-fixture.js';
import { breakSignature, makeCsr, san, sidUri, testKey } from '../testing/csr.js';
import { TempDir, opensslVerify } from '../testing/openssl.js';

const staticProfile = () => ({ verifier: new StaticChallengeVerifier({ password: 'secret123' }) });

function pkcsReq(transactionId: string, csrDer: Uint8Array, profile = 'p'): EnrollRequest {
  return { messageType: 'PKCSReq', transactionId, csrDer, profile, remoteAddress: '192.0.2.1' };
}

function success(r: EnrollResult) {
  assert.equal(r.status, 'SUCCESS');
  if (r.status !== 'SUCCESS') throw new Error('unreachable');
  return r;
}

function enrollError(failInfo: FailInfo, re?: RegExp) {
  return (e: unknown) =>
    e instanceof EnrollmentError && e.failInfo === failInfo && (!re || re.test(e.message));
}

test('ok/pkcsreq-static-challenge: issued, stored, transaction issued, audited, openssl verifies', async () => {
  const h = await harness({ p: staticProfile() });
  const dir = await TempDir.create();
  try {
    const csr = await makeCsr({ challenge: 'secret123', subject: 'CN=dev-1, O=Org' });
    const r = success(await h.authority.enroll(pkcsReq('tx-1', csr)));
    const cert = new x509.X509Certificate(r.certificateDer);
    assert.equal(cert.subject, 'CN=dev-1, O=Org');
    assert.equal(cert.serialNumber.replace(/^0+/, ''), r.serial);
    assert.deepEqual(r.chain, [h.caDer]);
    const stored = await h.store.getCertificate(r.serial);
    assert.deepEqual(stored?.der, r.certificateDer);
    assert.equal(stored?.transactionId, 'tx-1');
    const tx = await h.store.getTransaction({ transactionId: 'tx-1', profile: 'p' });
    assert.equal(tx?.state, 'issued');
    assert.equal(tx?.serial, r.serial);
    const audit = await h.store.queryAudit({ transactionId: 'tx-1' });
    assert.deepEqual(
      audit.map((a) => a.action),
      ['issue'],
    );
    assert.equal(audit[0]?.details['remoteAddress'], '192.0.2.1');
    assert.ok(!JSON.stringify(audit).includes('secret123'), 'the challenge never reaches the audit log');
    const v = await opensslVerify(
      dir,
      r.certificateDer,
      h.caDer,
      [],
      ['-attime', String(h.clock.now.getTime() / 1000)],
    );
    assert.equal(v.code, 0, v.stdout + v.stderr);
  } finally {
    await dir.remove();
    await h.close();
  }
});

test('ok/idempotent-same-transaction-same-key-returns-same-certificate', async () => {
  const h = await harness({ p: staticProfile() });
  try {
    const csr = await makeCsr({ challenge: 'secret123' });
    const a = success(await h.authority.enroll(pkcsReq('tx-i', csr)));
    const b = success(await h.authority.enroll(pkcsReq('tx-i', csr)));
    assert.deepEqual(b.certificateDer, a.certificateDer);
    assert.equal((await h.store.countCertificates({ expiringWithinDays: 1 })).issued, 1);
    const other = await makeCsr({ challenge: 'secret123', slot: 1 });
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-i', other)),
      enrollError('badRequest', /different public key/),
    );
  } finally {
    await h.close();
  }
});

test('fail/wrong-challenge then ok/retry-same-transaction with the right one', async () => {
  const h = await harness({ p: staticProfile() });
  try {
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-w', await makeCsr({ challenge: 'WRONG' }))),
      enrollError('badRequest', /challenge refused/),
    );
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-n', await makeCsr({}))),
      enrollError('badRequest', /missing/),
    );
    const tx = await h.store.getTransaction({ transactionId: 'tx-w', profile: 'p' });
    assert.equal(tx?.state, 'failed');
    assert.equal(tx?.failInfo, 'badRequest');
    const refusals = await h.store.queryAudit({ transactionId: 'tx-w', action: 'refuse' });
    assert.equal(refusals[0]?.details['failInfo'], 'badRequest');
    const good = await makeCsr({ challenge: 'secret123' });
    const r = success(await h.authority.enroll(pkcsReq('tx-w', good)));
    const again = success(await h.authority.enroll(pkcsReq('tx-w', good)));
    assert.equal(again.serial, r.serial, 'a retry of the retry returns the same certificate');
    assert.equal((await h.store.countCertificates({ expiringWithinDays: 1 })).issued, 1);
  } finally {
    await h.close();
  }
});

test('fail/bad-csr-signature-is-badMessageCheck; unknown profile and missing CSR are badRequest', async () => {
  const h = await harness({ p: staticProfile() });
  try {
    const csr = breakSignature(await makeCsr({ challenge: 'secret123' }));
    await assert.rejects(h.authority.enroll(pkcsReq('tx-b', csr)), enrollError('badMessageCheck'));
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-b', csr, 'nope')),
      enrollError('badRequest', /unknown profile/),
    );
    await assert.rejects(
      h.authority.enroll({ messageType: 'PKCSReq', transactionId: 'x', profile: 'p' }),
      enrollError('badRequest', /no CSR/),
    );
    assert.equal((await h.store.queryAudit({ action: 'refuse' })).length, 3);
  } finally {
    await h.close();
  }
});

test('ok/otp-challenge-consumed-once', async () => {
  const h = await harness((store) => ({
    p: { verifier: new OtpChallengeVerifier(store, { clock: () => new Date('2026-06-01T12:00:00Z') }) },
  }));
  try {
    const { password } = await h.store.mintChallenge({
      expiresAt: new Date('2026-06-02T00:00:00Z'),
      profile: 'p',
    });
    success(await h.authority.enroll(pkcsReq('tx-o1', await makeCsr({ challenge: password }))));
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-o2', await makeCsr({ challenge: password, slot: 1 }))),
      enrollError('badRequest', /one-time challenge used/),
    );
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-o3', await makeCsr({ challenge: 'never-minted', slot: 2 }))),
      enrollError('badRequest', /one-time challenge not-found/),
    );
  } finally {
    await h.close();
  }
});

test('renewal: ok with an issued cert and a new key; refused for same key, revoked, expired, foreign', async () => {
  const h = await harness({
    p: { ...staticProfile(), policy: { renewalKeyReuse: 'refuse' } },
    q: staticProfile(),
  });
  try {
    const first = success(
      await h.authority.enroll(pkcsReq('tx-r0', await makeCsr({ challenge: 'secret123', slot: 0 }))),
    );
    const renew = (tx: string, signer: Uint8Array, slot: number, profile = 'p'): Promise<EnrollResult> =>
      makeCsr({ slot }).then((csrDer) =>
        h.authority.enroll({
          messageType: 'RenewalReq',
          transactionId: tx,
          csrDer,
          signerCertDer: signer,
          profile,
        }),
      );
    const renewed = success(await renew('tx-r1', first.certificateDer, 1));
    assert.notEqual(renewed.serial, first.serial);
    await assert.rejects(renew('tx-r2', first.certificateDer, 0), enrollError('badRequest', /new key/));
    await assert.rejects(
      renew('tx-r3', first.certificateDer, 2, 'q'),
      enrollError('badRequest', /another profile/),
    );
    // foreign: a self-signed certificate the CA never issued
    const keys = await testKey('p256', 5);
    const foreign = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=foreign',
      keys: keys as unknown as CryptoKeyPairLike,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      notBefore: new Date('2026-01-01Z'),
      notAfter: new Date('2027-01-01Z'),
    });
    await assert.rejects(renew('tx-r4', new Uint8Array(foreign.rawData), 3), enrollError('badCertId'));
    assert.equal(await h.authority.revoke(renewed.serial, 4, 'alice'), 'revoked');
    await assert.rejects(renew('tx-r5', renewed.certificateDer, 3), enrollError('badRequest', /revoked/));
    h.clock.now = new Date('2027-07-01T00:00:00Z');
    await assert.rejects(renew('tx-r6', first.certificateDer, 3), enrollError('badRequest', /validity/));
    // no signer certificate at all
    await assert.rejects(
      h.authority.enroll({
        messageType: 'RenewalReq',
        transactionId: 'tx-r7',
        csrDer: await makeCsr({ slot: 4 }),
        profile: 'p',
      }),
      enrollError('badRequest', /without a signer/),
    );
  } finally {
    await h.close();
  }
});

type CryptoKeyPairLike = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

test('manual approval: PENDING, CertPoll PENDING, approve -> SUCCESS on poll; reject -> FAILURE', async () => {
  const h = await harness({ m: { ...staticProfile(), policy: { manualApproval: true } } });
  try {
    const csrA = await makeCsr({ challenge: 'secret123', slot: 0 });
    const csrB = await makeCsr({ challenge: 'secret123', slot: 1 });
    const poll = (tx: string) =>
      h.authority.enroll({ messageType: 'CertPoll', transactionId: tx, profile: 'm' });
    assert.deepEqual(await h.authority.enroll(pkcsReq('tx-a', csrA, 'm')), { status: 'PENDING' });
    assert.deepEqual(await h.authority.enroll(pkcsReq('tx-b', csrB, 'm')), { status: 'PENDING' });
    assert.deepEqual(await poll('tx-a'), { status: 'PENDING' });
    assert.deepEqual(await h.authority.enroll(pkcsReq('tx-a', csrA, 'm')), { status: 'PENDING' });
    await h.authority.approve({ transactionId: 'tx-a', profile: 'm' }, 'alice');
    const issued = success(await poll('tx-a'));
    assert.equal(new x509.X509Certificate(issued.certificateDer).subject, 'CN=device-1');
    assert.equal(success(await poll('tx-a')).serial, issued.serial);
    await h.authority.reject({ transactionId: 'tx-b', profile: 'm' }, 'bob');
    await assert.rejects(poll('tx-b'), enrollError('badRequest', /rejected/));
    await assert.rejects(poll('tx-unknown'), enrollError('badCertId'));
    const actions = (await h.store.queryAudit({ limit: 100 })).map(
      (a) => `${a.actor}:${a.action}:${a.transactionId}`,
    );
    for (const e of [
      'scep:pending:tx-a',
      'admin:alice:approve:tx-a',
      'scep:issue:tx-a',
      'admin:bob:reject:tx-b',
      'scep:refuse:tx-b',
    ]) {
      assert.ok(actions.includes(e), `audit has ${e}: ${actions.join(' ')}`);
    }
  } finally {
    await h.close();
  }
});

class RecordingVerifier implements ChallengeVerifier {
  failNextIssued = false;
  validatedByIntune = true;
  issued: IssuedCertificateInfo[] = [];
  failed: { hResult: number; description: string }[] = [];
  verify() {
    return Promise.resolve({ ok: true as const, validatedByIntune: this.validatedByIntune });
  }
  onIssued(_req: ChallengeRequest, cert: IssuedCertificateInfo) {
    if (this.failNextIssued) {
      this.failNextIssued = false;
      return Promise.reject(new Error('Intune success notification: HTTP 500'));
    }
    this.issued.push(cert);
    return Promise.resolve();
  }
  onFailed(_req: ChallengeRequest, hResult: number, description: string) {
    this.failed.push({ hResult, description });
    return Promise.resolve();
  }
}

test('hooks: onIssued failure revokes and withholds; retry later succeeds; onFailed on policy refusal', async () => {
  const verifier = new RecordingVerifier();
  const h = await harness({ i: { verifier } });
  try {
    const sid = 'S-1-5-21-1-2-3-1001';
    const csr = await makeCsr({ extensions: [san([sidUri(sid)])] });
    verifier.failNextIssued = true;
    const signed: Uint8Array[] = [];
    await assert.rejects(
      h.authority.enroll({ ...pkcsReq('tx-h', csr, 'i'), onSigned: (der) => signed.push(der) }),
      enrollError('badRequest', /hook failed/),
    );
    assert.equal(
      signed.length,
      1,
      'signed (and seen by onSigned) before the hook failed: enroll still refuses',
    );
    const revoked = await h.store.searchCertificates({ status: 'revoked' });
    assert.equal(revoked.length, 1);
    assert.equal(revoked[0]?.revocationReason, 5);
    const latestCrl = await h.store.getLatestCrl();
    assert.equal(latestCrl?.crlNumber, 1n, 'a CRL is published on revocation');
    const r = success(await h.authority.enroll(pkcsReq('tx-h', csr, 'i')));
    assert.notEqual(r.serial, revoked[0]?.serial);
    assert.equal(verifier.issued.length, 1);
    assert.equal(verifier.issued[0]?.serial, r.serial);
    assert.equal(verifier.issued[0]?.issuer, 'CN=scepkit Test CA, O=scepkit');
    assert.match(verifier.issued[0]?.thumbprint ?? '', /^[0-9a-f]{40}$/);
    // validated by Intune: the SID URI is in the certificate
    const names = new x509.X509Certificate(r.certificateDer).getExtension(
      x509.SubjectAlternativeNameExtension,
    );
    assert.equal(names?.names.items[0]?.value, `tag:microsoft.com,2022-09-14:sid:${sid}`);
    // not validated by Intune: SID refused, onFailed told
    verifier.validatedByIntune = false;
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-h2', await makeCsr({ slot: 1, extensions: [san([sidUri(sid)])] }), 'i')),
      enrollError('badRequest', /SID/),
    );
    assert.deepEqual(verifier.failed, [
      { hResult: HRESULT_E_FAIL, description: 'the CSR requests a SID URI it may not have' },
    ]);
  } finally {
    await h.close();
  }
});

test('ok/duplicate-serial-retried-with-a-new-one', async () => {
  const fixed = new Uint8Array(16).fill(0x11);
  const draws: Uint8Array[] = [fixed, fixed, new Uint8Array(16).fill(0x22)];
  const h = await harness(
    { n: { verifier: new NoneChallengeVerifier() } },
    {
      randomBytes: (n) => draws.shift() ?? new Uint8Array(n).fill(0x33),
    },
  );
  try {
    const a = success(await h.authority.enroll(pkcsReq('tx-d1', await makeCsr({ slot: 0 }), 'n')));
    const signed: [Uint8Array, readonly Uint8Array[]][] = [];
    const b = success(
      await h.authority.enroll({
        ...pkcsReq('tx-d2', await makeCsr({ slot: 1 }), 'n'),
        onSigned: (der, chain) => signed.push([der, chain]),
      }),
    );
    assert.equal(a.serial, '11'.repeat(16));
    assert.equal(b.serial, '22'.repeat(16));
    // onSigned saw both signatures, the refused serial's first; enroll resolves with the last one.
    assert.deepEqual(
      signed.map(([der]) => new x509.X509Certificate(der).serialNumber),
      ['11'.repeat(16), '22'.repeat(16)],
    );
    assert.deepEqual(signed[1]![0], b.certificateDer);
    assert.deepEqual(signed[1]![1], b.chain);
  } finally {
    await h.close();
  }
});

test('internal fault: a verifier outage propagates (not a FAILURE), nothing recorded as failed; retry succeeds', async () => {
  let down = true;
  const verifier: ChallengeVerifier = {
    verify: () =>
      down
        ? Promise.reject(new Error('Intune validateRequest: HTTP 500'))
        : Promise.resolve({ ok: true, deviceId: 'dev-42' }),
  };
  const h = await harness({ v: { verifier } });
  try {
    const csr = await makeCsr({});
    await assert.rejects(
      h.authority.enroll(pkcsReq('tx-v', csr, 'v')),
      (e: unknown) => !(e instanceof EnrollmentError) && /HTTP 500/.test(String(e)),
    );
    assert.equal((await h.store.getTransaction({ transactionId: 'tx-v', profile: 'v' }))?.state, 'pending');
    assert.deepEqual(
      (await h.store.queryAudit({ transactionId: 'tx-v' })).map((a) => a.action),
      ['error'],
    );
    down = false;
    const r = success(await h.authority.enroll(pkcsReq('tx-v', csr, 'v')));
    assert.equal((await h.store.getCertificate(r.serial))?.deviceId, 'dev-42');
  } finally {
    await h.close();
  }
});

test('ok/concurrent-identical-requests-get-one-certificate', async () => {
  const h = await harness({ p: staticProfile() });
  try {
    const csr = await makeCsr({ challenge: 'secret123' });
    const results = await Promise.all([1, 2, 3].map(() => h.authority.enroll(pkcsReq('tx-c', csr))));
    const serials = new Set(results.map((r) => success(r).serial));
    assert.equal(serials.size, 1);
    assert.equal((await h.store.countCertificates({ expiringWithinDays: 1 })).issued, 1);
  } finally {
    await h.close();
  }
});

test('renewal: the same transactionID and key as the PKCSReq (micromdm scepclient) renews, and a retry replays', async () => {
  const h = await harness({ p: staticProfile() });
  try {
    const csr = await makeCsr({ challenge: 'secret123', slot: 3 });
    const first = success(await h.authority.enroll(pkcsReq('tx-same', csr)));
    // A retried PKCSReq with the same transactionID and key gets the same certificate.
    assert.equal(success(await h.authority.enroll(pkcsReq('tx-same', csr))).serial, first.serial);
    const renew = (signer: Uint8Array) =>
      h.authority.enroll({
        messageType: 'RenewalReq',
        transactionId: 'tx-same',
        csrDer: csr,
        signerCertDer: signer,
        profile: 'p',
      });
    const second = success(await renew(first.certificateDer));
    assert.notEqual(second.serial, first.serial);
    // A retry of that renewal (still signed by the first certificate) gets the renewed certificate back.
    assert.equal(success(await renew(first.certificateDer)).serial, second.serial);
    // Renewing the renewed certificate issues a third one.
    const third = success(await renew(second.certificateDer));
    assert.ok(third.serial !== second.serial && third.serial !== first.serial);
  } finally {
    await h.close();
  }
});

test('ok/concurrent-duplicates-with-one-time-challenge: the duplicate never fails the original', async () => {
  const h = await harness((store) => ({
    p: { verifier: new OtpChallengeVerifier(store, { clock: () => new Date('2026-06-01T12:00:00Z') }) },
  }));
  try {
    const { password } = await h.store.mintChallenge({ expiresAt: new Date('2026-06-02T00:00:00Z') });
    const csr = await makeCsr({ challenge: password, slot: 7 });
    const settled = await Promise.allSettled([1, 2, 3].map(() => h.authority.enroll(pkcsReq('tx-dup', csr))));
    const ok = settled.filter((s) => s.status === 'fulfilled');
    assert.ok(ok.length >= 1, 'the original succeeds');
    for (const s of settled) {
      if (s.status === 'rejected')
        assert.ok(s.reason instanceof EnrollmentError && s.reason.failInfo === 'badRequest');
    }
    assert.equal((await h.store.getTransaction({ transactionId: 'tx-dup', profile: 'p' }))?.state, 'issued');
    assert.equal((await h.store.countCertificates({ expiringWithinDays: 1 })).issued, 1);
    // a later retry of the same request gets the certificate
    const again = success(await h.authority.enroll(pkcsReq('tx-dup', csr)));
    const first = ok[0];
    assert.equal(again.serial, first?.status === 'fulfilled' ? success(first.value).serial : '');
  } finally {
    await h.close();
  }
});
