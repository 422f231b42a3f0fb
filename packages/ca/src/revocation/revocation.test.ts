import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { NoneChallengeVerifier } from '../challenge/none-verifier.js';
import { createRootCa, issueOcspSignerCertificate } from '../init/root-ca.js';
import { KeyObjectSigner } from '../signer/key-object-signer.js';
import { crlToPem } from './crl.js';
import { OcspResponder } from './ocsp.js';
import { harness, type Harness } from '../testing/authority-fixture.js';
import { makeCsr } from '../testing/csr.js';
import { TempDir, openssl } from '../testing/openssl.js';
import { testCa } from '../testing/fixtures.js';
import { StoreError } from '../store/errors.js';

async function issueTwo(h: Harness): Promise<{ a: string; aDer: Uint8Array; b: string; bDer: Uint8Array }> {
  const ra = await h.authority.enroll({
    messageType: 'PKCSReq',
    transactionId: 't1',
    csrDer: await makeCsr({ slot: 0 }),
    profile: 'n',
  });
  const rb = await h.authority.enroll({
    messageType: 'PKCSReq',
    transactionId: 't2',
    csrDer: await makeCsr({ slot: 1 }),
    profile: 'n',
  });
  if (ra.status !== 'SUCCESS' || rb.status !== 'SUCCESS') throw new Error('enrollment failed');
  return { a: ra.serial, aDer: ra.certificateDer, b: rb.serial, bDer: rb.certificateDer };
}

const profiles = { n: { verifier: new NoneChallengeVerifier() } };

/** openssl prints serials as upper-case hex padded to whole bytes. */
function opensslSerial(hex: string): string {
  return (hex.length % 2 === 1 ? `0${hex}` : hex).toUpperCase();
}

test('crl: revocation publishes a signed CRL; openssl parses and verifies it; numbers increase; nextUpdate', async () => {
  const h = await harness(profiles);
  const dir = await TempDir.create();
  try {
    const { a, b } = await issueTwo(h);
    assert.equal(await h.authority.revoke(a, 1, 'alice'), 'revoked');
    assert.equal(await h.authority.revoke(a, 1, 'alice'), 'already-revoked');
    assert.equal(await h.authority.revoke('abcdef', 1, 'alice'), 'not-found');
    const first = await h.store.getLatestCrl();
    assert.equal(first?.crlNumber, 1n);
    const crl = await h.crl.publish();
    assert.equal(crl.crlNumber, 2n);
    assert.equal(crl.thisUpdate.toISOString(), '2026-06-01T12:00:00.000Z');
    assert.equal(crl.nextUpdate.toISOString(), '2026-06-08T12:00:00.000Z');
    const der = await dir.file('crl.der', crl.der);
    const ca = await dir.certs('ca.pem', [h.caDer]);
    const text = await openssl(['crl', '-inform', 'DER', '-in', der, '-noout', '-text']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /X509v3 CRL Number:\s*\n\s*2\n/);
    assert.match(text.stdout, /Last Update: Jun {2}1 12:00:00 2026 GMT/);
    assert.match(text.stdout, /Next Update: Jun {2}8 12:00:00 2026 GMT/);
    assert.match(
      text.stdout,
      new RegExp(
        `Serial Number: ${opensslSerial(a)}\\n\\s*Revocation Date: Jun  1 12:00:00 2026 GMT\\n\\s*CRL entry extensions:\\n\\s*X509v3 CRL Reason Code:\\s*\\n\\s*Key Compromise`,
      ),
    );
    assert.doesNotMatch(text.stdout, new RegExp(opensslSerial(b)));
    assert.match(text.stdout, /X509v3 Authority Key Identifier/);
    const verify = await openssl(['crl', '-inform', 'DER', '-in', der, '-noout', '-verify', '-CAfile', ca]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stderr + verify.stdout, /verify OK/);
    const pem = await dir.file('crl.pem', crlToPem(crl.der));
    const fromPem = await openssl(['crl', '-in', pem, '-noout', '-verify', '-CAfile', ca]);
    assert.match(fromPem.stderr + fromPem.stdout, /verify OK/);
    // current(): reuses a fresh CRL, re-publishes when nextUpdate is near
    assert.equal((await h.crl.current()).crlNumber, 2n);
    h.clock.now = new Date('2026-06-07T13:00:00.000Z');
    assert.equal((await h.crl.current()).crlNumber, 3n);
  } finally {
    await dir.remove();
    await h.close();
  }
});

interface OcspCase {
  name: string;
  hashArg: string[];
  delegated: boolean;
}

const ocspCases: OcspCase[] = [
  { name: 'ok/sha1-certid-ca-signed', hashArg: [], delegated: false },
  { name: 'ok/sha256-certid-delegated-signer', hashArg: ['-sha256'], delegated: true },
];

for (const c of ocspCases) {
  test(`ocsp ${c.name}: good / revoked / unknown, nonce echoed, openssl verifies`, async () => {
    const h = await harness(profiles);
    // openssl checks thisUpdate/nextUpdate against the real clock: answer at the real time here.
    h.clock.now = new Date();
    const dir = await TempDir.create();
    try {
      const { a, aDer, b, bDer } = await issueTwo(h);
      await h.authority.revoke(b, 1, 'alice');
      const { identity } = await testCa();
      let delegate;
      if (c.delegated) {
        const d = await issueOcspSignerCertificate(identity, {
          subject: 'CN=OCSP Responder',
          clock: () => h.clock.now,
        });
        delegate = { signer: new KeyObjectSigner(d.privateKey), certificateDer: d.certificateDer };
      }
      const responder = new OcspResponder({
        ca: identity,
        store: h.store,
        clock: () => h.clock.now,
        ...(delegate ? { delegate } : {}),
      });
      const ca = await dir.certs('ca.pem', [h.caDer]);
      const leafA = await dir.certs('a.pem', [aDer]);
      const leafB = await dir.certs('b.pem', [bDer]);
      const req = dir.join('req.der');
      const mk = await openssl([
        'ocsp',
        ...c.hashArg,
        '-issuer',
        ca,
        '-cert',
        leafA,
        '-cert',
        leafB,
        '-serial',
        '0x123456',
        '-reqout',
        req,
      ]);
      assert.equal(mk.code, 0, mk.stderr);
      const answer = await responder.respond(new Uint8Array(await readFile(req)));
      assert.equal(answer.status, 'successful');
      assert.deepEqual(answer.results, [
        { serial: a, status: 'good' },
        { serial: b, status: 'revoked' },
        { serial: '123456', status: 'unknown' },
      ]);
      const resp = await dir.file('resp.der', answer.der);
      const out = await openssl([
        'ocsp',
        '-respin',
        resp,
        '-reqin',
        req,
        '-CAfile',
        ca,
        '-issuer',
        ca,
        '-resp_text',
      ]);
      assert.equal(out.code, 0, out.stderr + out.stdout);
      assert.match(out.stderr + out.stdout, /Response verify OK/);
      assert.match(out.stdout, /OCSP Nonce:/);
      assert.match(out.stdout, /Cert Status: good/);
      assert.match(
        out.stdout,
        /Cert Status: revoked\n\s*Revocation Time: \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT\n\s*Revocation Reason: keyCompromise/,
      );
      assert.match(out.stdout, /Cert Status: unknown/);
      assert.match(out.stdout, c.delegated ? /Certificate:[\s\S]*OCSP Responder/ : /Responder Id: /);
      // the nonce in the response is the request's nonce
      const reqText = await openssl(['ocsp', '-reqin', req, '-req_text']);
      const nonce = (s: string) => /OCSP Nonce:\s*\n\s*([0-9A-F]+)/.exec(s)?.[1];
      assert.ok(nonce(reqText.stdout));
      assert.equal(nonce(out.stdout), nonce(reqText.stdout));
      // status lookup through openssl (checks CertID matching): -cert with -respin
      const st = await openssl([
        'ocsp',
        '-respin',
        resp,
        '-CAfile',
        ca,
        '-issuer',
        ca,
        ...c.hashArg,
        '-cert',
        leafA,
        '-cert',
        leafB,
        '-no_nonce',
      ]);
      assert.match(st.stdout, /a\.pem: good/);
      assert.match(st.stdout, /b\.pem: revoked/);
    } finally {
      await dir.remove();
      await h.close();
    }
  });
}

test('ocsp fail/malformed-request -> malformedRequest; no nonce -> none echoed', async () => {
  const h = await harness(profiles);
  const dir = await TempDir.create();
  try {
    const { identity } = await testCa();
    const responder = new OcspResponder({ ca: identity, store: h.store, clock: () => h.clock.now });
    for (const bad of [
      new Uint8Array([]),
      new Uint8Array([0x30, 0x82, 0xff, 0xff, 0x01]),
      new Uint8Array([0x30, 0x03, 0x30, 0x01, 0x00]),
    ]) {
      const ans = await responder.respond(bad);
      assert.equal(ans.status, 'malformedRequest');
      assert.deepEqual([...ans.der], [0x30, 0x03, 0x0a, 0x01, 0x01]);
      const txt = await openssl([
        'ocsp',
        '-respin',
        await dir.file('m.der', ans.der),
        '-resp_text',
        '-noverify',
      ]);
      assert.match(txt.stdout + txt.stderr, /malformedrequest/i);
    }
    const ca = await dir.certs('ca.pem', [h.caDer]);
    const req = dir.join('req.der');
    await openssl(['ocsp', '-issuer', ca, '-serial', '0x01', '-no_nonce', '-reqout', req]);
    const ans = await responder.respond(new Uint8Array(await readFile(req)));
    const out = await openssl([
      'ocsp',
      '-respin',
      await dir.file('r.der', ans.der),
      '-resp_text',
      '-noverify',
    ]);
    assert.doesNotMatch(out.stdout, /OCSP Nonce/);
    assert.match(out.stdout, /Cert Status: unknown/);
    // an existing serial asked about under another issuer is unknown too
    const { a } = await issueTwo(h);
    const other = await createRootCa({ subject: 'CN=Other CA', key: { type: 'ec', curve: 'P-256' } });
    const otherPem = await dir.certs('other.pem', [other.certificateDer]);
    const req2 = dir.join('req2.der');
    await openssl(['ocsp', '-issuer', otherPem, '-serial', `0x${a}`, '-reqout', req2]);
    const foreign = await responder.respond(new Uint8Array(await readFile(req2)));
    assert.deepEqual(foreign.results, [{ serial: a, status: 'unknown' }]);
    const ownReq = dir.join('req3.der');
    await openssl(['ocsp', '-issuer', ca, '-serial', `0x${a}`, '-reqout', ownReq]);
    assert.deepEqual((await responder.respond(new Uint8Array(await readFile(ownReq)))).results, [
      { serial: a, status: 'good' },
    ]);
  } finally {
    await dir.remove();
    await h.close();
  }
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('crl: schedule() keeps the CRL fresh and stops', async () => {
  const h = await harness(profiles);
  try {
    h.clock.now = new Date('2026-06-01T12:00:00.000Z');
    const errors: unknown[] = [];
    const stop = h.crl.schedule(20, (e) => errors.push(e));
    await waitFor(async () => (await h.store.getLatestCrl()) !== null);
    await new Promise((r) => setTimeout(r, 100));
    const first = await h.store.getLatestCrl();
    assert.equal(first?.crlNumber, 1n, 'published once, then reused while fresh');
    h.clock.now = new Date('2026-06-07T18:00:00.000Z'); // within refreshBefore of nextUpdate
    await waitFor(async () => (await h.store.getLatestCrl())?.crlNumber === 2n);
    stop();
    const second = await h.store.getLatestCrl();
    assert.equal(second?.crlNumber, 2n);
    assert.equal(second?.nextUpdate.toISOString(), '2026-06-14T18:00:00.000Z');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await h.store.getLatestCrl())?.crlNumber, 2n, 'stopped');
    assert.deepEqual(errors, []);
  } finally {
    await h.close();
  }
});

test('crl: concurrent current() calls share one publication', async () => {
  const h = await harness(profiles);
  try {
    const all = await Promise.all([h.crl.current(), h.crl.current(), h.crl.current()]);
    assert.deepEqual(
      all.map((c) => c.crlNumber),
      [1n, 1n, 1n],
    );
    assert.equal((await h.store.nextCrlNumber()) as bigint, 2n, 'only one number was consumed');
  } finally {
    await h.close();
  }
});

test('ocsp fail/database-out-of-reach -> tryLater; any other store fault -> internalError', async () => {
  const h = await harness(profiles);
  const dir = await TempDir.create();
  try {
    const { identity } = await testCa();
    const ca = await dir.certs('ca.pem', [h.caDer]);
    const req = dir.join('req.der');
    await openssl(['ocsp', '-issuer', ca, '-serial', '0x01', '-reqout', req]);
    const der = new Uint8Array(await readFile(req));
    const failing = (fault: Error) =>
      new OcspResponder({
        ca: identity,
        store: {
          getCertificate: () => Promise.reject(fault),
        } as unknown as ConstructorParameters<typeof OcspResponder>[0]['store'],
        clock: () => h.clock.now,
      });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const later = await failing(new StoreError('unavailable', 'PostgreSQL is unavailable', refused)).respond(
      der,
    );
    assert.equal(later.status, 'tryLater');
    assert.deepEqual([...later.der], [0x30, 0x03, 0x0a, 0x01, 0x03]);
    const internal = await failing(new StoreError('database', 'SQLite error')).respond(der);
    assert.equal(internal.status, 'internalError');
    assert.deepEqual([...internal.der], [0x30, 0x03, 0x0a, 0x01, 0x02]);
  } finally {
    await dir.remove();
    await h.close();
  }
});
