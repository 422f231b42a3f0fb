/*
 * Hostile requests against `scepkit serve` (static challenge endpoint): each is refused with the right answer, and
 * the audit log says why. A request whose signature does not match its certificate is not authenticated (400, no
 * CertRep); the others are authenticated and get a signed CertRep FAILURE with the RFC 8894 failInfo.
 */
import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { INTUNE_SID_URI_PREFIX, REVOCATION_REASONS, SqliteStore } from '@scepkit/ca';
import { keyObjectDecrypter, keyObjectSigner, readCsr, selfSignedCertificate } from '@scepkit/scep';
import type { FailInfo } from '@scepkit/scep';
import { tempDir } from '../support/tools.js';
import {
  NO_RATE_LIMIT,
  getCaCert,
  issuedTo,
  makeDevice,
  pkiOperation,
  prepare,
  readReply,
  rsaKeys,
  serialOf,
  spawnScepkit,
} from './harness.js';
import type { CaView, Device, PreparedRequest, ScepkitProcess } from './harness.js';

const PROFILE = 'default';

describe('hostile requests get the right failInfo, and the audit log says why', () => {
  let s: ScepkitProcess;
  let url: string;
  let ca: CaView;
  let challenge: string;
  let store: SqliteStore;
  let keys: webcrypto.CryptoKeyPair[];

  before(async () => {
    s = await spawnScepkit(tempDir('hostile'), {
      server: NO_RATE_LIMIT,
      endpoints: [{ path: '/scep', profile: PROFILE, challenge: { type: 'static' } }],
    });
    url = `${s.url}/scep`;
    ca = await getCaCert(url);
    challenge = readFileSync(join(s.dataDir, 'secrets', 'static-challenge'), 'utf8').trim();
    // A second connection to the server's database (WAL): to plant records and read the audit log.
    store = new SqliteStore({ filename: join(s.dataDir, 'scepkit.db') });
    keys = await Promise.all([0, 1, 2].map(() => rsaKeys()));
  });
  after(async () => {
    await store?.close();
    await s?.stop();
  });

  const device = (cn: string, i: number, extra: Partial<Parameters<typeof makeDevice>[0]> = {}) =>
    makeDevice({ subject: `CN=${cn},O=scepkit`, challenge, keys: keys[i]!, ...extra });

  async function enrolled(cn: string, i: number): Promise<{ device: Device; cert: Uint8Array }> {
    const d = await device(cn, i);
    const req = await prepare(ca, d, undefined, `hostile-${cn}`);
    const rep = await readReply(ca, req, (await pkiOperation(url, req.der)).body);
    assert.equal(rep.status, 'SUCCESS');
    return { device: d, cert: issuedTo(rep, d)! };
  }

  /** A RenewalReq for a new key, signed by `cert` and its key. */
  async function renewal(cert: Uint8Array, old: Device, cn: string): Promise<PreparedRequest> {
    const next = await device(cn, 2);
    const signedBy: Device = {
      ...next,
      signer: keyObjectSigner(cert, old.key),
      decrypter: keyObjectDecrypter(cert, old.key),
    };
    return prepare(ca, signedBy, { messageType: 'RenewalReq', csr: next.csr }, `hostile-renew-${cn}`);
  }

  async function refused(req: PreparedRequest, failInfo: FailInfo, why: RegExp): Promise<void> {
    const ans = await pkiOperation(url, req.der);
    assert.equal(ans.status, 200, `HTTP ${ans.status}`);
    const rep = await readReply(ca, req, ans.body);
    assert.equal(rep.status, 'FAILURE');
    assert.equal(rep.failInfo, failInfo);
    const audit = await store.queryAudit({ transactionId: req.transactionId, action: 'refuse' });
    assert.equal(audit.length, 1, 'one refusal recorded');
    assert.equal(audit[0]!.details['failInfo'], failInfo);
    assert.match(String(audit[0]!.details['reason']), why);
    assert.doesNotMatch(JSON.stringify(audit[0]), new RegExp(challenge), 'the challenge is never audited');
  }

  it('fail/signed-by-one-key-carrying-another-certificate-is-400-not-authenticated', async () => {
    const a = await device('mallory-a', 0);
    const b = await device('mallory-b', 1);
    const der = (await prepare(ca, { ...a, signer: keyObjectSigner(selfSigned(b), a.key) })).der;
    const ans = await pkiOperation(url, der);
    assert.equal(ans.status, 400);
    assert.ok(!Buffer.from(ans.body).subarray(0, 1).equals(Buffer.of(0x30)), 'no CertRep');
  });

  it('fail/renewal-with-a-revoked-certificate-is-badRequest', async () => {
    const { device: d, cert } = await enrolled('revoked', 0);
    assert.equal(await store.revoke(serialOf(cert), REVOCATION_REASONS.keyCompromise, new Date()), 'revoked');
    await refused(await renewal(cert, d, 'revoked'), 'badRequest', /revoked/);
  });

  it('fail/renewal-with-an-expired-certificate-is-badRequest', async () => {
    const d = await device('expired', 0);
    const day = 86_400_000;
    // Planted as issued by this CA, expired yesterday (the CA looks its record up by thumbprint).
    const cert = selfSignedCertificate({
      subject: readCsr(d.csr).subject,
      privateKey: d.key,
      now: new Date(Date.now() - 3 * day),
      lifetimeSeconds: 86_400,
    });
    const x = new X509Certificate(cert);
    await store.issue({
      certificate: {
        serial: serialOf(cert),
        der: cert,
        subject: 'CN=expired,O=scepkit',
        sans: [],
        notBefore: new Date(x.validFrom),
        notAfter: new Date(x.validTo),
        profile: PROFILE,
      },
      audit: { actor: 'test', action: 'plant' },
    });
    await refused(await renewal(cert, d, 'expired'), 'badRequest', /outside its validity/);
  });

  it('fail/renewal-with-a-foreign-certificate-is-badCertId', async () => {
    const d = await device('foreign', 1);
    await refused(await renewal(selfSigned(d), d, 'foreign'), 'badCertId', /not issued by this CA/);
  });

  it('fail/csr-whose-signature-does-not-verify-is-badMessageCheck', async () => {
    const d = await device('bad-csr-signature', 0);
    const csr = new Uint8Array(d.csr);
    csr[csr.length - 1] = csr[csr.length - 1]! ^ 0x01;
    const req = await prepare(ca, d, { messageType: 'PKCSReq', csr }, 'hostile-bad-csr-signature');
    await refused(req, 'badMessageCheck', /signature/i);
  });

  it('fail/csr-asking-for-CA-true-is-badRequest', async () => {
    const d = await device('wants-ca', 1, {
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    await refused(await prepare(ca, d, undefined, 'hostile-wants-ca'), 'badRequest', /CA:true/);
  });

  it('fail/sid-uri-san-on-a-static-endpoint-is-refused', async () => {
    const d = await device('sid', 0, {
      sans: [{ type: 'url', value: `${INTUNE_SID_URI_PREFIX}S-1-5-21-1004336348-1177238915-682003330-512` }],
    });
    await refused(await prepare(ca, d, undefined, 'hostile-sid'), 'badRequest', /sid|SID|Intune/);
    assert.equal((await store.searchCertificates({ subject: 'CN=sid,' })).length, 0, 'nothing issued');
  });
});

function selfSigned(d: Device): Uint8Array {
  return selfSignedCertificate({ subject: readCsr(d.csr).subject, privateKey: d.key });
}
