/*
 * Client quirks of the wire: iOS's BER indefinite lengths, and the GET `message=` encodings real clients use.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScepError,
  buildCertsOnly,
  buildEnvelopedData,
  buildSignedData,
  decodeBase64Message,
  decodePkiMessage,
  openEnvelopedData,
  openScepRequest,
  parseCertsOnly,
  parseScepQuery,
} from './index.js';
import { buildScepAttributes } from './attributes.js';
import { readVector } from './testing/fixtures.js';
import { makeTestPki } from './testing/pki.js';
import type { TestPki } from './testing/pki.js';
import { readTlv, toIndefiniteBer } from './testing/ber.js';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(() => pki.cleanup());

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const SEQ = 0x30;
const SET = 0x31;
const CTX0 = 0xa0;
const OCTETS = 0x04;
const is = (path: readonly number[], ...tail: number[]) =>
  path.length === tail.length && tail.every((t, i) => path[i] === t);

/**
 * What to keep DER in a SignedData ContentInfo: the certificates (their signatures cover their own DER) and the
 * signed attributes (the SignerInfo signature covers their DER). eContent becomes 100-byte chunks.
 */
const signedDataBer = {
  keep: (p: readonly number[]) =>
    is(p, SEQ, CTX0, SEQ, CTX0, SEQ) || // a certificate
    is(p, SEQ, CTX0, SEQ, SET, SEQ, CTX0), // signedAttrs
  chunk: (p: readonly number[]) => (is(p, SEQ, CTX0, SEQ, SEQ, CTX0, OCTETS) ? 100 : undefined),
};
/** In an EnvelopedData ContentInfo: everything indefinite (the recipient's issuer Name too), encryptedContent chunked. */
const envelopedDataBer = {
  chunk: (p: readonly number[]) => (is(p, SEQ, CTX0, SEQ, SEQ, 0x80) ? 64 : undefined),
};

describe('BER with indefinite lengths (iOS)', () => {
  it('ok/test-utility-really-produces-indefinite-lengths', () => {
    const ber = toIndefiniteBer(Uint8Array.of(0x30, 0x05, 0x30, 0x03, 0x04, 0x01, 0x07), {
      chunk: (p) => (is(p, SEQ, SEQ, OCTETS) ? 1 : undefined),
    });
    assert.equal(hex(ber), '3080' + '3080' + '2480' + '040107' + '0000' + '0000' + '0000');
  });

  it('ok/PKCSReq-outer-SignedData-indefinite-decodes-verifies-and-opens', async () => {
    // Build the envelope, turn it into BER, and sign that: the messageDigest covers the bytes as sent.
    const env = toIndefiniteBer(
      buildEnvelopedData(pki.csr, [pki.ra.cert], { cipher: 'aes-256-cbc' }),
      envelopedDataBer,
    );
    assert.equal(env[1], 0x80);
    const der = await buildSignedData({
      signer: pki.client.signer,
      digest: 'sha256',
      attributes: buildScepAttributes({
        messageType: 'PKCSReq',
        transactionId: 'ios-1',
        senderNonce: new Uint8Array(16).fill(1),
      }),
      content: env,
    });
    const ber = toIndefiniteBer(der, signedDataBer);
    assert.equal(ber[1], 0x80, 'outer ContentInfo is indefinite');
    assert.notEqual(hex(ber), hex(der));
    assert.ok(ber.length > der.length);

    const msg = decodePkiMessage(ber);
    assert.equal(msg.messageType, 'PKCSReq');
    assert.equal(msg.transactionId, 'ios-1');
    assert.deepEqual(msg.certificates.map(hex), [hex(pki.client.cert)]);
    assert.equal(hex(msg.envelope!), hex(env), 'eContent chunks are joined');
    const req = await openScepRequest(msg, [pki.ra.decrypter!]);
    assert.equal(req.body.messageType, 'PKCSReq');
    assert.equal(req.body.messageType === 'PKCSReq' && hex(req.body.csr), hex(pki.csr));
  });

  it('ok/real-micromdm-request-re-encoded-indefinite', () => {
    const der = readVector('by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der');
    const ber = toIndefiniteBer(der, signedDataBer);
    assert.equal(ber[1], 0x80);
    const a = decodePkiMessage(der);
    const b = decodePkiMessage(ber);
    assert.equal(b.transactionId, a.transactionId);
    assert.equal(hex(b.senderNonce), hex(a.senderNonce));
    assert.equal(hex(b.envelope!), hex(a.envelope!));
    assert.equal(hex(b.signerCertificate), hex(a.signerCertificate));
  });

  it('fail/signed-attributes-re-encoded-as-BER -> badSignature', () => {
    // The signature covers the DER of the attributes; a BER re-encoding of them is a different byte string.
    const der = readVector('by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der');
    const ber = toIndefiniteBer(der, { keep: (p) => is(p, SEQ, CTX0, SEQ, CTX0, SEQ) });
    assert.throws(
      () => decodePkiMessage(ber),
      (e: unknown) => e instanceof ScepError && e.code === 'badSignature',
    );
  });

  it('ok/EnvelopedData-indefinite-with-chunked-encryptedContent-opens', async () => {
    const der = buildEnvelopedData(pki.csr, [pki.ra.cert], { cipher: 'des-ede3-cbc' });
    const ber = toIndefiniteBer(der, envelopedDataBer);
    const opened = await openEnvelopedData(ber, [pki.ra.decrypter!]);
    assert.equal(hex(opened.content), hex(pki.csr));
    assert.equal(opened.cipher, 'des-ede3-cbc');
  });

  it('ok/certs-only-indefinite', () => {
    const der = buildCertsOnly([pki.ca.cert, pki.ra.cert], [pki.crl]);
    const ber = toIndefiniteBer(der, {
      keep: (p) => p.length === 5 && (is(p, SEQ, CTX0, SEQ, CTX0, SEQ) || is(p, SEQ, CTX0, SEQ, 0xa1, SEQ)),
    });
    const out = parseCertsOnly(ber);
    assert.deepEqual(out.certificates.map(hex), [hex(pki.ca.cert), hex(pki.ra.cert)]);
    assert.deepEqual(out.crls.map(hex), [hex(pki.crl)]);
  });

  it('ok/readTlv-walks-what-we-build', () => {
    const t = readTlv(buildCertsOnly([pki.ca.cert]));
    assert.equal(t.children.length, 2);
    assert.equal(t.children[1]!.id[0], CTX0);
  });
});

describe('GET PKIOperation message= forms', () => {
  const der = readVector('by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der');
  const b64 = Buffer.from(der).toString('base64');
  assert.ok(b64.includes('+') && b64.includes('/'), 'the vector exercises + and /');
  const forms: [string, string][] = [
    [
      'ok/get-PKIOperation-standard-base64-unescaped-slash',
      `operation=PKIOperation&message=${b64.replace(/\+/g, '%2B')}`,
    ],
    ['ok/get-PKIOperation-percent-encoded', `operation=PKIOperation&message=${encodeURIComponent(b64)}`],
    ['ok/get-PKIOperation-macos-unescaped-plus', `operation=PKIOperation&message=${b64}`],
    [
      'ok/get-PKIOperation-line-breaks-percent-encoded',
      `operation=PKIOperation&message=${encodeURIComponent(b64.replace(/.{64}/g, '$&\n'))}`,
    ],
    [
      'ok/get-PKIOperation-crlf-line-breaks',
      `operation=PKIOperation&message=${encodeURIComponent(b64.replace(/.{76}/g, '$&\r\n'))}`,
    ],
    [
      'ok/get-PKIOperation-base64url-micromdm',
      `operation=PKIOperation&message=${Buffer.from(der).toString('base64url')}`,
    ],
    [
      'ok/get-PKIOperation-base64url-with-padding',
      `operation=PKIOperation&message=${Buffer.from(der).toString('base64url')}${'='.repeat((4 - (Buffer.from(der).toString('base64url').length % 4)) % 4)}`,
    ],
    ['ok/get-PKIOperation-message-first', `message=${encodeURIComponent(b64)}&operation=PKIOperation`],
    [
      'ok/get-PKIOperation-lowercase-percent-escapes',
      `operation=PKIOperation&message=${encodeURIComponent(b64).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
    ],
  ];
  for (const [name, query] of forms) {
    it(name, () => {
      const q = parseScepQuery(query);
      assert.equal(q.operation, 'PKIOperation');
      assert.equal(hex(decodeBase64Message(q.message!)), hex(der));
    });
  }

  it('ok/get-PKIOperation-plus-already-decoded-to-space-by-a-framework', () => {
    // URLSearchParams turns a raw '+' into ' '; base64 has no spaces, so a space means '+'.
    const message = new URLSearchParams(`message=${b64}`).get('message')!;
    assert.ok(message.includes(' '));
    assert.equal(hex(decodeBase64Message(message)), hex(der));
  });

  it('ok/real-certmonger-and-micromdm-GET-URLs', () => {
    const urls = [
      'by-client/certmonger/PKCSReq-GET.full-url.txt',
      'by-client/micromdm-scepclient/PKCSReq-GET-base64url.full-url.txt',
    ];
    for (const u of urls) {
      const url = Buffer.from(readVector(u)).toString('utf8').trim();
      const q = parseScepQuery(url.slice(url.indexOf('?') + 1));
      assert.equal(q.operation, 'PKIOperation');
      assert.equal(decodePkiMessage(decodeBase64Message(q.message!)).messageType, 'PKCSReq');
    }
  });

  it('ok/other-operations-and-missing-message', () => {
    assert.deepEqual(parseScepQuery('operation=GetCACaps&message=0'), {
      operation: 'GetCACaps',
      message: '0',
    });
    assert.deepEqual(parseScepQuery('operation=GetCACert'), { operation: 'GetCACert', message: undefined });
    assert.deepEqual(parseScepQuery(''), { operation: undefined, message: undefined });
  });
});
