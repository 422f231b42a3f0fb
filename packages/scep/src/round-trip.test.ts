/*
 * Round trips: what the client side builds, the server side reads, and the reverse, for every message type,
 * content cipher, digest, key transport and signature style.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  CONTENT_CIPHERS,
  DEFAULT_DER_LIMITS,
  FAIL_INFOS,
  ScepError,
  buildCertRep,
  buildPkiRequest,
  decodeCertRep,
  decodePkiMessage,
  keyObjectSigner,
  openEnvelopedData,
  openScepRequest,
  parseCertsOnly,
  readCsr,
  replyCipher,
  transactionIdFor,
} from './index.js';
import type {
  ContentCipher,
  DigestName,
  FailInfo,
  KeyTransport,
  RequestBody,
  ScepErrorCode,
} from './index.js';
import { makeTestPki } from './testing/pki.js';
import { tlv } from './testing/ber.js';
import type { TestIdentity, TestPki } from './testing/pki.js';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(() => pki.cleanup());

const isScepError = (code: ScepErrorCode) => (e: unknown) => {
  assert.ok(e instanceof ScepError, `expected ScepError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  return true;
};

/** Uint8Array/Buffer values (and arrays of them) as hex, so deepEqual compares bytes, not prototypes. */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}
const sameBytes = (actual: unknown, expected: unknown) => assert.deepEqual(norm(actual), norm(expected));

function dec(id: TestIdentity) {
  assert.ok(id.decrypter, 'an RSA identity');
  return id.decrypter;
}

/** The server side: verify, then decrypt with the RA (and, to prove selection, the CA too). */
async function serverReads(der: Uint8Array) {
  const message = decodePkiMessage(der);
  return await openScepRequest(message, [dec(pki.ca), dec(pki.ra)]);
}

function bodies(): { name: string; body: RequestBody }[] {
  return [
    { name: 'PKCSReq', body: { messageType: 'PKCSReq', csr: pki.csr } },
    { name: 'RenewalReq', body: { messageType: 'RenewalReq', csr: pki.csr } },
    {
      name: 'CertPoll',
      body: { messageType: 'CertPoll', issuer: pki.ca.subject, subject: pki.client.subject },
    },
    {
      name: 'GetCert',
      body: { messageType: 'GetCert', issuer: pki.ca.subject, serial: pki.issuedClient.serial },
    },
    {
      name: 'GetCRL',
      body: { messageType: 'GetCRL', issuer: pki.ca.subject, serial: pki.issuedClient.serial },
    },
  ];
}

describe('round trip: requests, client -> server', () => {
  for (const name of ['PKCSReq', 'RenewalReq', 'CertPoll', 'GetCert', 'GetCRL']) {
    it(`ok/${name}`, async () => {
      const { body } = bodies().find((b) => b.name === name)!;
      const signer = name === 'RenewalReq' ? pki.issuedClient : pki.client;
      const senderNonce = randomBytes(16);
      const built = await buildPkiRequest({
        body,
        signer: signer.signer,
        recipients: [pki.ra.cert],
        senderNonce,
        ...(name === 'RenewalReq' ? { includeCertificates: [pki.ca.cert] } : {}),
      });
      sameBytes(built.senderNonce, senderNonce);
      const req = await serverReads(built.der);
      assert.equal(req.message.messageType, name);
      assert.equal(req.message.transactionId, built.transactionId);
      sameBytes(Buffer.from(req.message.senderNonce), senderNonce);
      assert.equal(req.message.recipientNonce, undefined);
      assert.equal(req.message.pkiStatus, undefined);
      sameBytes(req.message.signerCertificate, signer.cert);
      assert.equal(req.message.digest, 'sha256');
      assert.equal(req.message.plainRsaSignature, false);
      assert.equal(req.cipher, 'aes-256-cbc');
      assert.equal(req.keyTransport, 'rsa-pkcs1');
      assert.equal(req.recipient, pki.ra.decrypter);
      sameBytes(req.body, body);
      if (name === 'RenewalReq') {
        assert.equal(req.message.certificates.length, 2);
        sameBytes(req.message.certificates[1], pki.ca.cert);
      }
      if (req.body.messageType === 'PKCSReq') {
        // RFC 8894 §3.2.1.1: the default transactionID is derived from the CSR's public key.
        assert.equal(req.message.transactionId, transactionIdFor(pki.csr));
        assert.equal(readCsr(req.body.csr).challengePassword, 'secret123');
      }
    });
  }

  it('ok/explicit-transactionId-is-carried-verbatim', async () => {
    const transactionId = 'AbC+/=0123 weird but printable';
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.client.signer,
      recipients: [pki.ca.cert],
      transactionId,
    });
    assert.equal(built.transactionId, transactionId);
    assert.equal((await serverReads(built.der)).message.transactionId, transactionId);
  });

  it('ok/encrypted-to-CA-and-RA-either-can-open', async () => {
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.client.signer,
      recipients: [pki.ca.cert, pki.ra.cert],
    });
    const msg = decodePkiMessage(built.der);
    assert.equal((await openScepRequest(msg, [dec(pki.ca)])).recipient, pki.ca.decrypter);
    assert.equal((await openScepRequest(msg, [dec(pki.ra)])).recipient, pki.ra.decrypter);
  });

  it('fail/encrypted-to-RA-opened-with-other-CA -> noRecipient', async () => {
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.client.signer,
      recipients: [pki.ra.cert],
    });
    const msg = decodePkiMessage(built.der);
    await assert.rejects(async () => openScepRequest(msg, [dec(pki.otherCa)]), isScepError('noRecipient'));
  });

  it('fail/no-recipients -> badArgument', async () => {
    await assert.rejects(
      buildPkiRequest({
        body: { messageType: 'PKCSReq', csr: pki.csr },
        signer: pki.client.signer,
        recipients: [],
      }),
      isScepError('badArgument'),
    );
  });
});

const CIPHERS = Object.keys(CONTENT_CIPHERS) as ContentCipher[];
const TRANSPORTS: { name: string; keyTransport: KeyTransport; oaepHash?: DigestName }[] = [
  { name: 'rsa-pkcs1', keyTransport: 'rsa-pkcs1' },
  { name: 'rsa-oaep-sha1', keyTransport: 'rsa-oaep', oaepHash: 'sha1' },
  { name: 'rsa-oaep-sha256', keyTransport: 'rsa-oaep', oaepHash: 'sha256' },
];

describe('round trip: PKCSReq -> CertRep SUCCESS, every cipher x key transport', () => {
  for (const cipher of CIPHERS) {
    for (const t of TRANSPORTS) {
      it(`ok/${cipher}-${t.name}`, async () => {
        const built = await buildPkiRequest({
          body: { messageType: 'PKCSReq', csr: pki.csr },
          signer: pki.client.signer,
          recipients: [pki.ra.cert],
          cipher,
          keyTransport: t.keyTransport,
          ...(t.oaepHash ? { oaepHash: t.oaepHash } : {}),
        });
        const req = await serverReads(built.der);
        assert.equal(req.cipher, cipher);
        assert.equal(req.keyTransport, t.keyTransport);
        sameBytes(req.body, { messageType: 'PKCSReq', csr: pki.csr });

        // The server answers with the issued certificate and the CA, encrypted the way the client can read.
        const rep = await buildCertRep({
          request: req.message,
          status: 'SUCCESS',
          certificates: [pki.issuedClient.cert, pki.ca.cert],
          signer: pki.ra.signer,
          includeCertificates: [pki.ca.cert],
          requestCipher: req.cipher,
          keyTransport: req.keyTransport,
        });
        const out = await decodeCertRep(rep, {
          decrypter: dec(pki.client),
          expect: { transactionId: built.transactionId, senderNonce: built.senderNonce },
          trustedSigners: [pki.ra.cert],
        });
        assert.equal(out.status, 'SUCCESS');
        assert.equal(out.failInfo, undefined);
        sameBytes(out.certificates, [pki.issuedClient.cert, pki.ca.cert]);
        sameBytes(out.crls, []);
        assert.equal(out.message.messageType, 'CertRep');
        assert.equal(out.message.transactionId, built.transactionId);
        sameBytes(out.message.recipientNonce, built.senderNonce);
        assert.notDeepEqual(norm(out.message.senderNonce), norm(built.senderNonce));
        sameBytes(out.message.signerCertificate, pki.ra.cert);
        sameBytes(out.message.certificates, [pki.ra.cert, pki.ca.cert]);
        // des-cbc request -> des-ede3-cbc reply; otherwise the client's own cipher.
        const opened = await openEnvelopedData(out.message.envelope!, [dec(pki.client)]);
        assert.equal(opened.cipher, cipher === 'des-cbc' ? 'des-ede3-cbc' : cipher);
        assert.equal(opened.cipher, replyCipher(cipher));
        assert.equal(opened.keyTransport, t.keyTransport);
      });
    }
  }

  it('fail/CertRep-never-built-with-des-cbc-by-default', () => {
    assert.equal(replyCipher('des-cbc'), 'des-ede3-cbc');
    for (const c of CIPHERS.filter((x) => x !== 'des-cbc')) assert.equal(replyCipher(c), c);
  });
});

const DIGESTS: DigestName[] = ['sha1', 'sha256', 'sha384', 'sha512'];

describe('round trip: every digest x RSA signature style, mirrored in the reply', () => {
  for (const digest of DIGESTS) {
    for (const rsaStyle of ['rsaEncryption', 'shaWithRsa'] as const) {
      it(`ok/${digest}-${rsaStyle}`, async () => {
        const built = await buildPkiRequest({
          body: { messageType: 'PKCSReq', csr: pki.csr },
          signer: pki.client.signer,
          recipients: [pki.ca.cert],
          digest,
          rsaStyle,
        });
        const req = await serverReads(built.der);
        assert.equal(req.message.digest, digest);
        assert.equal(req.message.plainRsaSignature, rsaStyle === 'rsaEncryption');
        const rep = await buildCertRep({
          request: req.message,
          status: 'PENDING',
          signer: pki.ca.signer,
        });
        const out = await decodeCertRep(rep, {
          decrypter: dec(pki.client),
          expect: { transactionId: built.transactionId, senderNonce: built.senderNonce },
        });
        assert.equal(out.status, 'PENDING');
        assert.equal(out.message.digest, digest);
        assert.equal(out.message.plainRsaSignature, rsaStyle === 'rsaEncryption');
        assert.equal(out.message.envelope, undefined);
      });
    }
  }
});

describe('round trip: ECDSA P-256 request signer', () => {
  for (const digest of DIGESTS) {
    it(`ok/ecdsa-${digest}`, async () => {
      const built = await buildPkiRequest({
        body: { messageType: 'CertPoll', issuer: pki.ca.subject, subject: pki.ecClient.subject },
        signer: pki.ecClient.signer,
        recipients: [pki.ra.cert],
        digest,
      });
      const req = await serverReads(built.der);
      assert.equal(req.message.digest, digest);
      assert.equal(req.message.plainRsaSignature, false);
      sameBytes(req.message.signerCertificate, pki.ecClient.cert);
      sameBytes(req.body, {
        messageType: 'CertPoll',
        issuer: pki.ca.subject,
        subject: pki.ecClient.subject,
      });
    });
  }

  it('ok/PENDING-to-an-ECDSA-client', async () => {
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.ecClient.signer,
      recipients: [pki.ra.cert],
    });
    const req = await serverReads(built.der);
    const rep = await buildCertRep({ request: req.message, status: 'PENDING', signer: pki.ra.signer });
    const msg = decodePkiMessage(rep);
    assert.equal(msg.pkiStatus, 'PENDING');
    sameBytes(msg.recipientNonce, built.senderNonce);
  });

  it('fail/SUCCESS-to-an-ECDSA-client -> unsupportedAlgorithm (no key transport to an EC key)', async () => {
    const req = await serverReads(
      (
        await buildPkiRequest({
          body: { messageType: 'PKCSReq', csr: pki.csr },
          signer: pki.ecClient.signer,
          recipients: [pki.ra.cert],
        })
      ).der,
    );
    await assert.rejects(
      buildCertRep({
        request: req.message,
        status: 'SUCCESS',
        certificates: [pki.issuedClient.cert],
        signer: pki.ra.signer,
      }),
      isScepError('unsupportedAlgorithm'),
    );
  });
});

describe('round trip: CertRep, server -> client', () => {
  async function request(messageType: 'PKCSReq' | 'GetCRL' = 'PKCSReq') {
    const body = bodies().find((b) => b.name === messageType)!.body;
    const built = await buildPkiRequest({ body, signer: pki.client.signer, recipients: [pki.ra.cert] });
    return { built, req: await serverReads(built.der) };
  }
  const expectOf = (b: { transactionId: string; senderNonce: Uint8Array }) => ({
    transactionId: b.transactionId,
    senderNonce: b.senderNonce,
  });

  for (const failInfo of Object.keys(FAIL_INFOS) as FailInfo[]) {
    it(`ok/FAILURE-${failInfo}-with-failInfoText`, async () => {
      const { built, req } = await request();
      const failInfoText = `refused: ${failInfo} (é ✓)`;
      const rep = await buildCertRep({
        request: req.message,
        status: 'FAILURE',
        failInfo,
        failInfoText,
        signer: pki.ra.signer,
      });
      const out = await decodeCertRep(rep, { decrypter: dec(pki.client), expect: expectOf(built) });
      assert.equal(out.status, 'FAILURE');
      assert.equal(out.failInfo, failInfo);
      assert.equal(out.failInfoText, failInfoText);
      sameBytes(out.certificates, []);
      assert.equal(out.message.envelope, undefined);
      assert.equal(out.message.transactionId, built.transactionId);
    });
  }

  it('ok/FAILURE-without-failInfoText', async () => {
    const { built, req } = await request();
    const rep = await buildCertRep({
      request: req.message,
      status: 'FAILURE',
      failInfo: 'badRequest',
      signer: pki.ra.signer,
    });
    const out = await decodeCertRep(rep, { decrypter: dec(pki.client), expect: expectOf(built) });
    assert.equal(out.failInfo, 'badRequest');
    assert.equal(out.failInfoText, undefined);
  });

  it('ok/PENDING-carries-no-failInfo-and-no-content', async () => {
    const { built, req } = await request();
    const rep = await buildCertRep({
      request: req.message,
      status: 'PENDING',
      failInfo: 'badAlg', // ignored unless FAILURE
      failInfoText: 'ignored',
      signer: pki.ra.signer,
    });
    const out = await decodeCertRep(rep, { decrypter: dec(pki.client), expect: expectOf(built) });
    assert.equal(out.status, 'PENDING');
    assert.equal(out.failInfo, undefined);
    assert.equal(out.message.failInfo, undefined);
    assert.equal(out.message.failInfoText, undefined);
  });

  it('ok/SUCCESS-with-a-CRL-to-GetCRL', async () => {
    const { built, req } = await request('GetCRL');
    const rep = await buildCertRep({
      request: req.message,
      status: 'SUCCESS',
      crls: [pki.crl],
      signer: pki.ra.signer,
      requestCipher: req.cipher,
    });
    const out = await decodeCertRep(rep, { decrypter: dec(pki.client), expect: expectOf(built) });
    assert.equal(out.status, 'SUCCESS');
    sameBytes(out.certificates, []);
    sameBytes(out.crls, [pki.crl]);
  });

  it('ok/SUCCESS-with-a-large-CRL (more elements than the default budget; the client raises its limits)', async () => {
    const { built, req } = await request('GetCRL');
    // A CRL-shaped SEQUENCE with 3,000 entries: about 9,000 ASN.1 elements.
    const entry = (i: number) =>
      tlv(
        0x30,
        tlv(0x02, Uint8Array.of(i >> 8, i & 0xff)),
        tlv(0x17, new TextEncoder().encode('260101000000Z')),
      );
    const entries = Array.from({ length: 3000 }, (_, i) => entry(i + 1));
    const bigCrl = tlv(
      0x30,
      tlv(0x30, tlv(0x30, ...entries)),
      tlv(0x30, tlv(0x05)),
      tlv(0x03, Uint8Array.of(0)),
    );
    const rep = await buildCertRep({
      request: req.message,
      status: 'SUCCESS',
      crls: [bigCrl],
      signer: pki.ra.signer,
    });
    await assert.rejects(
      async () => decodeCertRep(rep, { decrypter: dec(pki.client) }),
      isScepError('limitExceeded'),
    );
    const out = await decodeCertRep(rep, {
      decrypter: dec(pki.client),
      expect: expectOf(built),
      limits: { ...DEFAULT_DER_LIMITS, maxNodes: 20_000 },
    });
    sameBytes(out.crls, [bigCrl]);
  });

  it('ok/SUCCESS-inner-is-certs-only-SignedData', async () => {
    const { req } = await request();
    const rep = await buildCertRep({
      request: req.message,
      status: 'SUCCESS',
      certificates: [pki.issuedClient.cert],
      signer: pki.ra.signer,
    });
    const msg = decodePkiMessage(rep);
    const inner = await openEnvelopedData(msg.envelope!, [dec(pki.client)]);
    assert.equal(inner.cipher, 'aes-256-cbc'); // no requestCipher given
    sameBytes(parseCertsOnly(inner.content), { certificates: [pki.issuedClient.cert], crls: [] });
  });

  it('ok/explicit-senderNonce-digest-and-signingTime', async () => {
    const { req } = await request();
    const senderNonce = randomBytes(16);
    const rep = await buildCertRep({
      request: req.message,
      status: 'PENDING',
      signer: pki.ra.signer,
      senderNonce,
      digest: 'sha512',
      signingTime: new Date('2026-01-02T03:04:05Z'),
    });
    const msg = decodePkiMessage(rep);
    sameBytes(Buffer.from(msg.senderNonce), senderNonce);
    assert.equal(msg.digest, 'sha512');
  });

  it('fail/recipientNonce-mismatch -> badAttribute', async () => {
    const { built, req } = await request();
    const rep = await buildCertRep({ request: req.message, status: 'PENDING', signer: pki.ra.signer });
    const wrongNonce = Buffer.from(built.senderNonce);
    wrongNonce[0] = wrongNonce[0]! ^ 1;
    await assert.rejects(
      async () =>
        decodeCertRep(rep, {
          decrypter: dec(pki.client),
          expect: { transactionId: built.transactionId, senderNonce: wrongNonce },
        }),
      isScepError('badAttribute'),
    );
  });

  it('fail/transactionID-mismatch -> badAttribute', async () => {
    const { built, req } = await request();
    const rep = await buildCertRep({
      request: { ...req.message, transactionId: 'someone-else' },
      status: 'FAILURE',
      failInfo: 'badCertId',
      signer: pki.ra.signer,
    });
    await assert.rejects(
      async () => decodeCertRep(rep, { decrypter: dec(pki.client), expect: expectOf(built) }),
      isScepError('badAttribute'),
    );
    // Without `expect` the same reply decodes (the check is the caller's opt-in).
    assert.equal(
      (await decodeCertRep(rep, { decrypter: dec(pki.client) })).message.transactionId,
      'someone-else',
    );
  });

  it('fail/reply-without-recipientNonce -> badAttribute when expected', async () => {
    const { built, req } = await request();
    // A request-shaped message (no recipientNonce) signed by the RA, passed off as a reply.
    const rep = await buildCertRep({ request: req.message, status: 'PENDING', signer: pki.ra.signer });
    await assert.rejects(
      async () =>
        decodeCertRep(rep, {
          decrypter: dec(pki.client),
          expect: { transactionId: built.transactionId, senderNonce: new Uint8Array(16) },
        }),
      isScepError('badAttribute'),
    );
  });

  it('ok/trustedSigners-accepts-the-RA', async () => {
    const { req } = await request();
    const rep = await buildCertRep({ request: req.message, status: 'PENDING', signer: pki.ra.signer });
    const out = await decodeCertRep(rep, {
      decrypter: dec(pki.client),
      trustedSigners: [pki.ca.cert, pki.ra.cert],
    });
    assert.equal(out.status, 'PENDING');
  });

  it('fail/trustedSigners-refuses-another-signer -> noSignerCertificate', async () => {
    const { req } = await request();
    const rep = await buildCertRep({ request: req.message, status: 'PENDING', signer: pki.otherCa.signer });
    await assert.rejects(
      async () =>
        decodeCertRep(rep, { decrypter: dec(pki.client), trustedSigners: [pki.ca.cert, pki.ra.cert] }),
      isScepError('noSignerCertificate'),
    );
  });

  it('ok/trustedSigners-supplies-a-signer-certificate-the-reply-omits', async () => {
    const { built, req } = await request();
    const rep = await buildCertRep({ request: req.message, status: 'PENDING', signer: pki.ra.signer });
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(rep).result });
    const sd = new pkijs.SignedData({ schema: ci.content });
    sd.certificates = undefined;
    const bare = new Uint8Array(
      new pkijs.ContentInfo({ contentType: ci.contentType, content: sd.toSchema() }).toSchema().toBER(),
    );
    await assert.rejects(
      async () => decodeCertRep(bare, { decrypter: dec(pki.client) }),
      isScepError('noSignerCertificate'),
    );
    const out = await decodeCertRep(bare, {
      decrypter: dec(pki.client),
      trustedSigners: [pki.ra.cert],
      expect: expectOf(built),
    });
    assert.equal(out.status, 'PENDING');
    sameBytes(out.message.signerCertificate, pki.ra.cert);
  });

  it('fail/trustedSigners-refuses-a-look-alike-RA-certificate -> noSignerCertificate', async () => {
    // Same issuer and serial as the RA's certificate, another key: the reply verifies against the certificate it
    // carries, but that certificate is not the trusted one.
    const ra = new pkijs.Certificate({ schema: asn1js.fromBER(pki.ra.cert).result });
    ra.subjectPublicKeyInfo = new pkijs.Certificate({
      schema: asn1js.fromBER(pki.otherCa.cert).result,
    }).subjectPublicKeyInfo;
    const lookAlike = new Uint8Array(ra.toSchema(true).toBER());
    const { req } = await request();
    const rep = await buildCertRep({
      request: req.message,
      status: 'PENDING',
      signer: keyObjectSigner(lookAlike, pki.otherCa.key),
    });
    sameBytes(decodePkiMessage(rep).signerCertificate, lookAlike); // a valid signature by its own lights
    await assert.rejects(
      async () => decodeCertRep(rep, { decrypter: dec(pki.client), trustedSigners: [pki.ra.cert] }),
      isScepError('noSignerCertificate'),
    );
  });

  it('fail/a-request-is-not-a-CertRep -> badAttribute', async () => {
    const { built } = await request();
    await assert.rejects(
      async () => decodeCertRep(built.der, { decrypter: dec(pki.client) }),
      isScepError('badAttribute'),
    );
  });

  it('fail/SUCCESS-decrypted-with-the-wrong-client-key -> noRecipient', async () => {
    const { req } = await request();
    const rep = await buildCertRep({
      request: req.message,
      status: 'SUCCESS',
      certificates: [pki.issuedClient.cert],
      signer: pki.ra.signer,
    });
    await assert.rejects(
      async () => decodeCertRep(rep, { decrypter: dec(pki.issuedClient) }),
      isScepError('noRecipient'),
    );
  });

  it('fail/builder-arguments -> badArgument', async () => {
    const { req } = await request();
    await assert.rejects(
      buildCertRep({ request: req.message, status: 'FAILURE', signer: pki.ra.signer }),
      isScepError('badArgument'),
    );
    await assert.rejects(
      buildCertRep({ request: req.message, status: 'SUCCESS', signer: pki.ra.signer }),
      isScepError('badArgument'),
    );
    const pending = decodePkiMessage(
      await buildCertRep({ request: req.message, status: 'PENDING', signer: pki.ra.signer }),
    );
    await assert.rejects(async () => openScepRequest(pending, [dec(pki.ra)]), isScepError('badArgument'));
  });
});
