/*
 * Hostile input: every case must end in a typed ScepError with the right code, quickly, never in another exception.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import fc from 'fast-check';
import {
  MAX_ATTRIBUTE_STRING,
  OID,
  ScepError,
  buildCertsOnly,
  buildEnvelopedData,
  buildPkiRequest,
  buildSignedData,
  decodeBase64Message,
  decodePkiMessage,
  keyObjectDecrypter,
  openEnvelopedData,
  openScepRequest,
  parseCertsOnly,
  parseScepQuery,
  readCsr,
} from './index.js';
import type { ScepErrorCode } from './index.js';
import { buildScepAttributes } from './attributes.js';
import type { ScepAttributes } from './attributes.js';
import { issuerAndSerial, parseCertificate } from './certificate.js';
import { readCertPem, readKey, readVector } from './testing/fixtures.js';
import { makeTestPki } from './testing/pki.js';
import type { TestPki } from './testing/pki.js';
import { nestedDefinite, nestedIndefinite, readTlv, tlv } from './testing/ber.js';
import {
  fuzzOpen,
  fuzzQuery,
  fuzzTargets,
  runTargets,
  mutatedArb,
  onlyScepErrors,
  queryArb,
  randomDerishArb,
  resignedRequest,
} from './testing/arbitraries.js';

const micromdmCa = keyObjectDecrypter(
  readCertPem('cas/micromdm-ca/ca.pem'),
  readKey('cas/micromdm-ca/ca.key.pem'),
);
const kuCa = keyObjectDecrypter(readCertPem('cas/ku-ca/ca.pem'), readKey('cas/ku-ca/ca.key.pem'));
const decrypters = [micromdmCa, kuCa];
const micromdmReq = readVector('by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der');
const certmongerReq = readVector('by-client/certmonger/PKCSReq-GET-sha256-aes256.req.der');
const certPollReq = readVector('by-client/certmonger/CertPoll-GetCertInitial-GET.req.der');
const certRep = readVector('by-client/micromdm-scepclient/PKCSReq-POST.resp-CertRep-SUCCESS-sha1-descbc.der');
// What certmonger got from GetCACert was a bare certificate; wrap real certificates in a certs-only SignedData.
const caCertsOnly = buildCertsOnly([
  readCertPem('cas/micromdm-ca/ca.pem'),
  readCertPem('by-client/micromdm-scepclient/issued-cert-serial02.pem'),
]);
const requests = [micromdmReq, certmongerReq, certPollReq];

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(() => pki.cleanup());

/** Asserts `fn` throws a ScepError with `code`, and does not hang (a generous bound: speed is for bench/, not tests). */
async function rejects(fn: () => unknown, code: ScepErrorCode, limitMs = 5000): Promise<ScepError> {
  const t0 = performance.now();
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - t0;
  assert.ok(err !== undefined, 'expected a ScepError, got success');
  assert.ok(err instanceof ScepError, `expected ScepError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.ok(ms < limitMs, `took ${ms.toFixed(0)} ms`);
  return err;
}

/** A signed pkiMessage with exactly these authenticated attributes (no automatic contentType/messageDigest). */
async function signWithAttributes(
  attrs: pkijs.Attribute[],
  content: Uint8Array,
  certificates?: Uint8Array[],
) {
  const signer = pki.client;
  const pc = parseCertificate(signer.cert);
  const toSign = new asn1js.Set({ value: attrs.map((a) => a.toSchema()) }).toBER();
  const signature = await signer.signer.sign(new Uint8Array(toSign), 'sha256');
  const alg = new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 });
  const sd = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [alg],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.data,
      eContent: new asn1js.OctetString({ valueHex: content }),
    }),
    certificates: (certificates ?? [signer.cert]).map((c) => parseCertificate(c).cert),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: issuerAndSerial(pc),
        digestAlgorithm: alg,
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: attrs }),
        signatureAlgorithm: new pkijs.AlgorithmIdentifier({
          algorithmId: OID.sha256WithRSAEncryption,
          algorithmParams: new asn1js.Null(),
        }),
        signature: new asn1js.OctetString({ valueHex: signature }),
      }),
    ],
  });
  const ci = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema(true) });
  return new Uint8Array(ci.toSchema().toBER());
}

const attr = (type: string, ...values: asn1js.AsnType[]) => new pkijs.Attribute({ type, values });
const base: ScepAttributes = {
  messageType: 'PKCSReq',
  transactionId: 'tx-1',
  senderNonce: new Uint8Array(16).fill(7),
};
const content = new Uint8Array([1, 2, 3]);
const contentTypeAttr = () => attr(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data }));
const digestAttr = (c: Uint8Array = content) =>
  attr(OID.messageDigest, new asn1js.OctetString({ valueHex: createHash('sha256').update(c).digest() }));
/** contentType + the SCEP attributes of `a` (filtered) + messageDigest. */
const attrsOf = (a: ScepAttributes, drop: string[] = [], extra: pkijs.Attribute[] = []) => [
  contentTypeAttr(),
  ...buildScepAttributes(a).filter((x) => !drop.includes(x.type)),
  ...extra,
  digestAttr(),
];

describe('malformed DER', () => {
  it('fail/truncated-at-every-offset-of-a-real-request -> malformed', async () => {
    for (const v of [micromdmReq, certRep]) {
      for (let i = 0; i < v.length; i++) await rejects(() => decodePkiMessage(v.subarray(0, i)), 'malformed');
    }
  });

  it('fail/truncated-certs-only-and-envelope -> malformed', async () => {
    const env = decodePkiMessage(micromdmReq).envelope!;
    for (let i = 0; i < env.length; i += 7)
      await rejects(() => openEnvelopedData(env.subarray(0, i), decrypters), 'malformed');
    for (let i = 0; i < caCertsOnly.length; i += 5)
      await rejects(() => parseCertsOnly(caCertsOnly.subarray(0, i)), 'malformed');
  });

  it('fail/trailing-bytes -> malformed', async () => {
    await rejects(() => decodePkiMessage(Buffer.concat([micromdmReq, Buffer.from([0])])), 'malformed');
    await rejects(() => decodePkiMessage(Buffer.concat([micromdmReq, micromdmReq])), 'malformed');
  });

  it('fail/empty-input -> malformed', async () => {
    await rejects(() => decodePkiMessage(new Uint8Array(0)), 'malformed');
    await rejects(() => parseCertsOnly(new Uint8Array(0)), 'malformed');
    await rejects(() => openEnvelopedData(new Uint8Array(0), decrypters), 'malformed');
  });

  it('fail/wrong-outer-tags -> malformed', async () => {
    for (const tag of [0x31, 0x04, 0xa0, 0x10, 0x00]) {
      const b = Buffer.from(micromdmReq);
      b[0] = tag;
      await rejects(() => decodePkiMessage(b), 'malformed');
    }
    // The contentType OID turned into an OCTET STRING; the [0] EXPLICIT content turned into [1].
    const t = readTlv(micromdmReq);
    const oidAt = micromdmReq.length - t.content.length;
    for (const [at, tag] of [
      [oidAt, 0x04],
      [oidAt + t.children[0]!.raw.length, 0xa1],
    ] as const) {
      const b = Buffer.from(micromdmReq);
      b[at] = tag;
      await rejects(() => decodePkiMessage(b), 'malformed');
    }
  });

  it('fail/huge-lengths -> malformed, without allocating them', async () => {
    const cases = [
      [0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00], // 2 GB - 1
      [0x30, 0x84, 0x80, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00], // 2 GB
      [0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00], // 4 GB - 1
      [0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00], // 256 claimed, 3 given
      [0x30, 0x03, 0x04, 0x84, 0x7f, 0xff, 0xff, 0xff], // inner primitive claims 2 GB
    ];
    for (const c of cases) {
      await rejects(() => decodePkiMessage(Uint8Array.from(c)), 'malformed');
      await rejects(() => parseCertsOnly(Uint8Array.from(c)), 'malformed');
    }
    // The outer length of a real message replaced by 0x84 7fffffff.
    const t = readTlv(micromdmReq);
    const huge = Buffer.concat([Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]), t.content]);
    await rejects(() => decodePkiMessage(huge), 'malformed');
  });

  it('fail/length-of-length-0x85-and-beyond -> malformed', async () => {
    for (const ll of [0x85, 0x86, 0x88, 0x8f, 0xfe, 0xff]) {
      const b = Uint8Array.from([0x30, ll, ...new Array<number>(ll & 0x7f).fill(0), 0x05, 0x00]);
      await rejects(() => decodePkiMessage(b), 'malformed');
    }
    // 0x80 on a primitive element, and a long form with no length octets.
    await rejects(() => decodePkiMessage(Uint8Array.from([0x30, 0x04, 0x04, 0x80, 0x00, 0x00])), 'malformed');
    await rejects(() => decodePkiMessage(Uint8Array.from([0x30, 0x81])), 'malformed');
  });

  it('fail/indefinite-length-without-end-of-contents -> malformed', async () => {
    await rejects(() => decodePkiMessage(Uint8Array.from([0x30, 0x80, 0x05, 0x00])), 'malformed');
    await rejects(() => decodePkiMessage(nestedIndefinite(5).subarray(0, 14)), 'malformed');
  });

  it('fail/10000-nested-SEQUENCEs-definite -> limitExceeded', async () => {
    const deep = nestedDefinite(10_000);
    await rejects(() => decodePkiMessage(deep), 'limitExceeded');
    await rejects(() => parseCertsOnly(deep), 'limitExceeded');
    await rejects(() => openEnvelopedData(deep, decrypters), 'limitExceeded');
    await rejects(() => readCsr(deep), 'limitExceeded');
  });

  it('fail/10000-nested-SEQUENCEs-indefinite -> limitExceeded', async () => {
    const deep = nestedIndefinite(10_000);
    await rejects(() => decodePkiMessage(deep), 'limitExceeded');
    await rejects(() => parseCertsOnly(deep), 'limitExceeded');
    await rejects(() => openEnvelopedData(deep, decrypters), 'limitExceeded');
  });

  it('fail/deep-nesting-inside-a-signed-and-encrypted-CSR -> limitExceeded', async () => {
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: nestedIndefinite(10_000) },
      signer: pki.client.signer,
      recipients: [pki.ra.cert],
      transactionId: 'deep',
    });
    const msg = decodePkiMessage(built.der);
    await rejects(() => openScepRequest(msg, [pki.ra.decrypter!]), 'limitExceeded');
  });

  it('fail/over-the-size-limit -> limitExceeded', async () => {
    const big = Buffer.concat([Buffer.from([0x04, 0x83, 0x10, 0x00, 0x00]), Buffer.alloc(0x100000)]);
    await rejects(() => decodePkiMessage(big), 'limitExceeded');
    await rejects(
      () => decodePkiMessage(micromdmReq, { limits: { maxDepth: 40, maxBytes: 1000 } }),
      'limitExceeded',
    );
    await rejects(
      () => decodePkiMessage(micromdmReq, { limits: { maxDepth: 3, maxBytes: 1 << 20 } }),
      'limitExceeded',
    );
  });

  it('fail/contents-asn1js-throws-on (GeneralizedTime that is not a time) -> malformed', async () => {
    // Found by the property test below: asn1js threw a plain Error for this one.
    const b = Buffer.from(micromdmReq);
    b[0] = 0x18;
    await rejects(() => decodePkiMessage(b), 'malformed');
    await rejects(() => parseCertsOnly(b), 'malformed');
    await rejects(() => openEnvelopedData(b, decrypters), 'malformed');
    await rejects(() => decodePkiMessage(Uint8Array.from([0x18, 0x03, 0x41, 0x42, 0x43])), 'malformed');
  });

  it('fail/high-tag-number-too-long -> malformed', async () => {
    await rejects(
      () => decodePkiMessage(Uint8Array.from([0x3f, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00])),
      'malformed',
    );
  });
});

describe('wrong content types', () => {
  it('fail/EnvelopedData-where-SignedData-expected -> wrongContentType', async () => {
    const env = decodePkiMessage(micromdmReq).envelope!;
    await rejects(() => decodePkiMessage(env), 'wrongContentType');
    await rejects(() => parseCertsOnly(env), 'wrongContentType');
  });

  it('fail/SignedData-where-EnvelopedData-expected -> wrongContentType', async () => {
    await rejects(() => openEnvelopedData(micromdmReq, decrypters), 'wrongContentType');
    // A signed request whose pkcsPKIEnvelope is a SignedData.
    const der = await resignedRequest(pki.client.signer, caCertsOnly);
    await rejects(() => openScepRequest(decodePkiMessage(der), decrypters), 'wrongContentType');
  });

  it('fail/ContentInfo-claims-SignedData-but-holds-EnvelopedData -> malformed', async () => {
    const env = decodePkiMessage(micromdmReq).envelope!;
    const t = readTlv(env);
    const fake = tlv(
      0x30,
      new Uint8Array(new asn1js.ObjectIdentifier({ value: OID.signedData }).toBER()),
      t.children[1]!.raw,
    );
    await rejects(() => decodePkiMessage(fake), 'malformed');
  });

  it('fail/eContentType-not-id-data -> wrongContentType', async () => {
    const sd = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({
        eContentType: OID.envelopedData,
        eContent: new asn1js.OctetString({ valueHex: content }),
      }),
      signerInfos: [],
    });
    const der = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema(true) })
      .toSchema()
      .toBER();
    await rejects(() => decodePkiMessage(new Uint8Array(der)), 'wrongContentType');
  });

  it('fail/certs-only-as-a-pkiMessage (no signer) -> malformed', async () => {
    await rejects(() => decodePkiMessage(caCertsOnly), 'malformed');
    await rejects(() => parseCertsOnly(micromdmReq), 'malformed'); // has a signer
  });

  it('fail/unsupported-content-cipher -> unsupportedAlgorithm', async () => {
    const env = Buffer.from(decodePkiMessage(certmongerReq).envelope!);
    const aes256 = Buffer.from(new asn1js.ObjectIdentifier({ value: OID.aes256Cbc }).toBER());
    const at = env.indexOf(aes256);
    assert.ok(at > 0);
    env[at + aes256.length - 1] = 0x2e; // aes256-wrap (2.16.840.1.101.3.4.1.46)
    await rejects(() => openEnvelopedData(env, decrypters), 'unsupportedAlgorithm');
  });
});

describe('SCEP attributes', () => {
  const required: [string, string][] = [
    ['messageType', OID.messageType],
    ['transactionID', OID.transactionID],
    ['senderNonce', OID.senderNonce],
  ];
  for (const [name, oid] of required) {
    it(`fail/missing-${name} -> missingAttribute`, async () => {
      const der = await signWithAttributes(attrsOf(base, [oid]), content);
      const e = await rejects(() => decodePkiMessage(der), 'missingAttribute');
      assert.match(e.message, new RegExp(name));
    });
  }

  it('fail/missing-messageDigest -> missingAttribute', async () => {
    const attrs = attrsOf(base).filter((a) => a.type !== OID.messageDigest);
    await rejects(async () => decodePkiMessage(await signWithAttributes(attrs, content)), 'missingAttribute');
  });

  it('ok/control-all-attributes-present', async () => {
    const msg = decodePkiMessage(await signWithAttributes(attrsOf(base), content));
    assert.equal(msg.transactionId, 'tx-1');
    assert.equal(msg.messageType, 'PKCSReq');
  });

  it('fail/duplicated-attribute -> badAttribute', async () => {
    for (const dup of [
      attr(OID.transactionID, new asn1js.PrintableString({ value: 'tx-2' })),
      attr(OID.messageType, new asn1js.PrintableString({ value: '19' })),
      digestAttr(),
    ]) {
      await rejects(
        async () => decodePkiMessage(await signWithAttributes(attrsOf(base, [], [dup]), content)),
        'badAttribute',
      );
    }
  });

  it('fail/attribute-with-two-values -> badAttribute', async () => {
    const two = attr(
      OID.transactionID,
      new asn1js.PrintableString({ value: 'a' }),
      new asn1js.PrintableString({ value: 'b' }),
    );
    await rejects(
      async () =>
        decodePkiMessage(await signWithAttributes(attrsOf(base, [OID.transactionID], [two]), content)),
      'badAttribute',
    );
  });

  const badValues: [string, pkijs.Attribute, ScepErrorCode][] = [
    ['messageType-99', attr(OID.messageType, new asn1js.PrintableString({ value: '99' })), 'badAttribute'],
    [
      'messageType-CertRep-text',
      attr(OID.messageType, new asn1js.PrintableString({ value: 'PKCSReq' })),
      'badAttribute',
    ],
    ['messageType-INTEGER', attr(OID.messageType, new asn1js.Integer({ value: 19 })), 'badAttribute'],
    [
      'senderNonce-empty',
      attr(OID.senderNonce, new asn1js.OctetString({ valueHex: new Uint8Array(0) })),
      'badAttribute',
    ],
    [
      'senderNonce-65-bytes',
      attr(OID.senderNonce, new asn1js.OctetString({ valueHex: new Uint8Array(65) })),
      'badAttribute',
    ],
    [
      'senderNonce-a-string',
      attr(OID.senderNonce, new asn1js.PrintableString({ value: 'nonce' })),
      'badAttribute',
    ],
    [
      'transactionID-too-long',
      attr(OID.transactionID, new asn1js.PrintableString({ value: 'x'.repeat(MAX_ATTRIBUTE_STRING + 1) })),
      'limitExceeded',
    ],
    [
      'transactionID-OCTET-STRING',
      attr(OID.transactionID, new asn1js.OctetString({ valueHex: content })),
      'badAttribute',
    ],
    ['pkiStatus-7', attr(OID.pkiStatus, new asn1js.PrintableString({ value: '7' })), 'badAttribute'],
    ['failInfo-5', attr(OID.failInfo, new asn1js.PrintableString({ value: '5' })), 'badAttribute'],
    [
      'contentType-not-id-data',
      attr(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.envelopedData })),
      'badAttribute',
    ],
  ];
  for (const [name, a, code] of badValues) {
    it(`fail/${name} -> ${code}`, async () => {
      const attrs = [...attrsOf(base, [a.type]).filter((x) => x.type !== a.type), a];
      await rejects(async () => decodePkiMessage(await signWithAttributes(attrs, content)), code);
    });
  }
});

describe('signatures and signer certificates', () => {
  let good: Uint8Array;
  before(async () => {
    good = (
      await buildPkiRequest({
        body: { messageType: 'PKCSReq', csr: pki.csr },
        signer: pki.client.signer,
        recipients: [pki.ra.cert],
        transactionId: 'TXID-MARKER',
      })
    ).der;
  });

  it('ok/control-unmodified', () => {
    assert.equal(decodePkiMessage(good).transactionId, 'TXID-MARKER');
  });

  it('fail/flip-a-byte-of-the-signature -> badSignature', async () => {
    // No unsigned attributes: the signature value is the last bytes of the message.
    for (const back of [1, 50, 200]) {
      const b = Buffer.from(good);
      b[b.length - back] = b[b.length - back]! ^ 0x01;
      await rejects(() => decodePkiMessage(b), 'badSignature');
    }
  });

  it('fail/flip-a-byte-of-the-signed-attributes -> badSignature', async () => {
    const b = Buffer.from(good);
    const at = b.indexOf('TXID-MARKER');
    b[at] = 'U'.charCodeAt(0);
    await rejects(() => decodePkiMessage(b), 'badSignature');
  });

  it('fail/flip-a-byte-of-the-content -> badSignature (messageDigest)', async () => {
    const env = decodePkiMessage(good).envelope!;
    const b = Buffer.from(good);
    const at = b.indexOf(Buffer.from(env)) + env.length - 5;
    b[at] = b[at]! ^ 0x80;
    const e = await rejects(() => decodePkiMessage(b), 'badSignature');
    assert.match(e.message, /messageDigest/);
  });

  it('fail/signer-certificate-missing -> noSignerCertificate', async () => {
    // Same signed attributes and signature, but another certificate in place of the signer's.
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(good).result });
    const sd = new pkijs.SignedData({ schema: ci.content });
    sd.certificates = [parseCertificate(pki.ca.cert).cert];
    const der = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema() })
      .toSchema()
      .toBER();
    await rejects(() => decodePkiMessage(new Uint8Array(der)), 'noSignerCertificate');
    // The caller may supply it out of band.
    assert.equal(
      decodePkiMessage(new Uint8Array(der), { extraCertificates: [pki.client.cert] }).transactionId,
      'TXID-MARKER',
    );
    // No certificates at all.
    sd.certificates = undefined;
    const none = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema() })
      .toSchema()
      .toBER();
    await rejects(() => decodePkiMessage(new Uint8Array(none)), 'noSignerCertificate');
  });

  it('fail/signed-by-a-key-other-than-the-certificates -> badSignature', async () => {
    // The RA's certificate stands in for the client's: the issuer/serial lookup fails before any key is tried.
    const der = await signWithAttributes(attrsOf(base), content, [pki.ra.cert]);
    await rejects(() => decodePkiMessage(der), 'noSignerCertificate');
  });

  it('fail/17-certificates -> limitExceeded; 16 is fine', async () => {
    const sign = (n: number) =>
      buildSignedData({
        signer: pki.client.signer,
        digest: 'sha256',
        attributes: buildScepAttributes(base),
        content,
        certificates: new Array<Uint8Array>(n - 1).fill(pki.ca.cert),
      });
    assert.equal(decodePkiMessage(await sign(16)).certificates.length, 16);
    const [seventeen, many] = [await sign(17), await sign(200)];
    await rejects(() => decodePkiMessage(seventeen), 'limitExceeded');
    await rejects(() => decodePkiMessage(many), 'limitExceeded'); // the element budget (maxNodes) of the pre-scan
    await rejects(
      () => parseCertsOnly(buildCertsOnly(new Array<Uint8Array>(17).fill(pki.ca.cert))),
      'limitExceeded',
    );
  });

  it('fail/two-SignerInfos -> malformed', async () => {
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(good).result });
    const sd = new pkijs.SignedData({ schema: ci.content });
    sd.signerInfos.push(sd.signerInfos[0]!);
    const der = new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema() })
      .toSchema()
      .toBER();
    await rejects(() => decodePkiMessage(new Uint8Array(der)), 'malformed');
  });

  it('fail/unsupported-digest -> unsupportedAlgorithm', async () => {
    const b = Buffer.from(good);
    const sha256 = Buffer.from(new asn1js.ObjectIdentifier({ value: OID.sha256 }).toBER());
    let at = -1;
    while ((at = b.indexOf(sha256, at + 1)) >= 0) b[at + sha256.length - 1] = 0x07; // sha3-256 (…4.2.8 -> …4.2.7: sha3-224)
    await rejects(() => decodePkiMessage(b), 'unsupportedAlgorithm');
  });
});

describe('GET transport', () => {
  const cases: [string, string, ScepErrorCode][] = [
    ['not-base64-chars', 'MIIB$$$$', 'malformed'],
    ['padding-in-the-middle', 'MII=Bxyz', 'malformed'],
    ['three-padding-chars', 'MIIBxy===', 'malformed'],
    ['length-1-mod-4', 'MIIBx', 'malformed'],
    ['empty', '', 'malformed'],
    ['only-whitespace', '\r\n\t', 'malformed'],
    ['non-ascii', 'MIIB\u00e9xyz', 'malformed'],
    ['too-long', 'A'.repeat(64 * 1024 + 4), 'limitExceeded'],
  ];
  for (const [name, message, code] of cases) {
    it(`fail/base64-${name} -> ${code}`, async () => {
      await rejects(() => decodeBase64Message(message), code);
    });
  }

  it('fail/bad-percent-encoding -> malformed', async () => {
    await rejects(() => parseScepQuery('operation=PKIOperation&message=MII%zzB'), 'malformed');
    await rejects(() => parseScepQuery('operation=PKIOperation&message=MII%E9'), 'malformed');
  });

  it('fail/query-too-long -> limitExceeded', async () => {
    await rejects(
      () => parseScepQuery(`operation=PKIOperation&message=${'%41'.repeat(64 * 1024 + 1)}`),
      'limitExceeded',
    );
  });

  it('fail/valid-base64-of-garbage -> malformed', async () => {
    await rejects(() => decodePkiMessage(decodeBase64Message('aGVsbG8gd29ybGQ=')), 'malformed');
  });
});

describe('property: only ScepError or success, for random and mutated input', () => {
  const targets = fuzzTargets(decrypters);

  it('ok/random-bytes (2000 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(randomDerishArb, (b) => runTargets(targets, b)),
      { numRuns: 2000 },
    );
  });

  it('ok/mutated-real-vectors (1000 runs)', async () => {
    const vectors = [...requests, certRep, caCertsOnly];
    await fc.assert(
      fc.asyncProperty(mutatedArb(vectors), (b) => runTargets(targets, b)),
      { numRuns: 1000 },
    );
  });

  it('ok/mutated-envelopes-re-signed-reach-decryption (30 runs)', async () => {
    const envelopes = requests.map((r) => decodePkiMessage(r).envelope!);
    await fc.assert(
      fc.asyncProperty(mutatedArb(envelopes, 2), async (env) => {
        const der = await resignedRequest(pki.client.signer, env);
        let msg;
        const r = onlyScepErrors('decodePkiMessage', () => (msg = decodePkiMessage(der)));
        if (env.length > 0) assert.equal(r, 'ok'); // the signature itself is good
        if (msg) await fuzzOpen(msg, decrypters);
      }),
      { numRuns: 30 },
    );
  });

  it('ok/mutated-inner-content-encrypted-correctly (30 runs)', async () => {
    const inner = [pki.csr, buildCertsOnly([pki.ca.cert], [pki.crl])];
    await fc.assert(
      fc.asyncProperty(mutatedArb(inner, 3), async (body) => {
        const env = buildEnvelopedData(body, [pki.ra.cert], { cipher: 'aes-128-cbc' });
        const msg = decodePkiMessage(await resignedRequest(pki.client.signer, env));
        await fuzzOpen(msg, [pki.ra.decrypter!]);
        onlyScepErrors('parseCertsOnly', () => parseCertsOnly(body));
      }),
      { numRuns: 30 },
    );
  });

  it('ok/GET-queries (2000 runs)', () => {
    const real = [
      `operation=PKIOperation&message=${encodeURIComponent(Buffer.from(micromdmReq).toString('base64'))}`,
      `operation=PKIOperation&message=${Buffer.from(certmongerReq).toString('base64url')}`,
    ];
    fc.assert(fc.property(queryArb(real), fuzzQuery), { numRuns: 2000 });
  });
});
