/*
 * Interop with OpenSSL 3 (`openssl cms`): OpenSSL verifies and decrypts what we build, and we open what it builds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  ScepError,
  buildCertRep,
  buildCertsOnly,
  buildPkiRequest,
  decodePkiMessage,
  openEnvelopedData,
  parseSignedData,
  verifySignedData,
} from './index.js';
import type { ContentCipher, DigestName, KeyTransport } from './index.js';
import { makeTestPki } from './testing/pki.js';
import type { TestIdentity, TestPki } from './testing/pki.js';

let pki: TestPki;
let n = 0;
before(async () => {
  pki = await makeTestPki();
});
after(() => pki.cleanup());

function openssl(args: string[], input?: Uint8Array): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
}
const file = (data: Uint8Array | string) => pki.file(`f${n++}`, data);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `openssl cms -verify`, without (-noverify) or with a chain check against `caFile`; returns the content. */
function cmsVerify(der: Uint8Array, caFile?: string): Buffer {
  const trust = caFile ? ['-CAfile', caFile, '-purpose', 'any'] : ['-noverify'];
  return openssl(['cms', '-verify', '-inform', 'DER', '-in', file(der), '-binary', ...trust]);
}

function cmsDecrypt(der: Uint8Array, recipient: TestIdentity, legacy = false): Buffer {
  const providers = legacy ? ['-provider', 'legacy', '-provider', 'default'] : [];
  const args = ['cms', '-decrypt', ...providers, '-inform', 'DER', '-in', file(der), '-binary'];
  return openssl([...args, '-recip', recipient.certPem, '-inkey', recipient.keyPem]);
}

const TRANSPORTS: { name: string; keyTransport: KeyTransport; oaepHash?: DigestName }[] = [
  { name: 'rsa-pkcs1', keyTransport: 'rsa-pkcs1' },
  { name: 'rsa-oaep-sha1', keyTransport: 'rsa-oaep', oaepHash: 'sha1' },
  { name: 'rsa-oaep-sha256', keyTransport: 'rsa-oaep', oaepHash: 'sha256' },
];

describe('openssl cms reads our requests', () => {
  const cases: {
    cipher: ContentCipher;
    t: (typeof TRANSPORTS)[number];
    digest: DigestName;
    plain?: boolean;
  }[] = [
    { cipher: 'aes-256-cbc', t: TRANSPORTS[0]!, digest: 'sha256' },
    { cipher: 'aes-128-cbc', t: TRANSPORTS[0]!, digest: 'sha1', plain: true },
    { cipher: 'aes-192-cbc', t: TRANSPORTS[1]!, digest: 'sha384' },
    { cipher: 'des-ede3-cbc', t: TRANSPORTS[0]!, digest: 'sha512' },
    { cipher: 'aes-256-cbc', t: TRANSPORTS[2]!, digest: 'sha256' },
    { cipher: 'des-cbc', t: TRANSPORTS[0]!, digest: 'sha1' },
  ];
  for (const c of cases) {
    it(`ok/PKCSReq-${c.cipher}-${c.t.name}-${c.digest}${c.plain ? '-rsaEncryption' : ''}`, async () => {
      const built = await buildPkiRequest({
        body: { messageType: 'PKCSReq', csr: pki.csr },
        signer: pki.client.signer,
        recipients: [pki.ra.cert],
        cipher: c.cipher,
        digest: c.digest,
        keyTransport: c.t.keyTransport,
        ...(c.t.oaepHash ? { oaepHash: c.t.oaepHash } : {}),
        ...(c.plain ? { rsaStyle: 'rsaEncryption' as const } : {}),
      });
      const envelope = cmsVerify(built.der);
      assert.equal(hex(envelope), hex(decodePkiMessage(built.der).envelope!));
      // Full verification: the self-signed client certificate as its own trust anchor.
      assert.equal(hex(cmsVerify(built.der, pki.client.certPem)), hex(envelope));
      // Single DES needs OpenSSL 3's legacy provider.
      const csr = cmsDecrypt(envelope, pki.ra, c.cipher === 'des-cbc');
      assert.equal(hex(csr), hex(pki.csr));
    });
  }

  it('ok/ECDSA-signed-request-verifies', async () => {
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.ecClient.signer,
      recipients: [pki.ra.cert],
      digest: 'sha384',
    });
    const envelope = cmsVerify(built.der, pki.ecClient.certPem);
    assert.equal(hex(cmsDecrypt(envelope, pki.ra)), hex(pki.csr));
  });

  it('fail/tampered-request-is-refused-by-openssl-too', async () => {
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.client.signer,
      recipients: [pki.ra.cert],
    });
    const bad = Buffer.from(built.der);
    bad[bad.length - 10] = bad[bad.length - 10]! ^ 0xff; // inside the signature
    assert.throws(() => cmsVerify(bad));
  });
});

describe('openssl cms reads our CertRep', async () => {
  const ciphers: ContentCipher[] = ['aes-128-cbc', 'aes-256-cbc', 'des-ede3-cbc'];
  for (const cipher of ciphers) {
    for (const t of TRANSPORTS) {
      it(`ok/SUCCESS-${cipher}-${t.name}`, async () => {
        const req = decodePkiMessage(
          (
            await buildPkiRequest({
              body: { messageType: 'PKCSReq', csr: pki.csr },
              signer: pki.client.signer,
              recipients: [pki.ra.cert],
            })
          ).der,
        );
        const rep = await buildCertRep({
          request: req,
          status: 'SUCCESS',
          certificates: [pki.issuedClient.cert, pki.ca.cert],
          signer: pki.ra.signer,
          includeCertificates: [pki.ca.cert],
          cipher,
          keyTransport: t.keyTransport,
        });
        const envelope = cmsVerify(rep);
        // The RA chains to the CA: a full verification with the CA as the only trust anchor.
        assert.equal(hex(cmsVerify(rep, pki.ca.certPem)), hex(envelope));
        const inner = cmsDecrypt(envelope, pki.client);
        assert.equal(hex(inner), hex(buildCertsOnly([pki.issuedClient.cert, pki.ca.cert])));
        const printed = openssl(['pkcs7', '-inform', 'DER', '-print_certs', '-noout'], inner).toString();
        assert.match(printed, /subject=CN ?= ?device-1, ?O ?= ?scepkit/);
        assert.match(printed, /subject=CN ?= ?scepkit test CA/);
        const pem = openssl(['pkcs7', '-inform', 'DER', '-print_certs'], inner).toString();
        const first = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? '';
        assert.equal(
          Buffer.from(first.replace(/\s+/g, ''), 'base64').toString('hex'),
          hex(pki.issuedClient.cert),
        );
      });
    }
  }

  it('ok/SUCCESS-with-a-CRL', async () => {
    const req = decodePkiMessage(
      (
        await buildPkiRequest({
          body: { messageType: 'GetCRL', issuer: pki.ca.subject, serial: pki.issuedClient.serial },
          signer: pki.issuedClient.signer,
          recipients: [pki.ra.cert],
        })
      ).der,
    );
    const rep = await buildCertRep({
      request: req,
      status: 'SUCCESS',
      crls: [pki.crl],
      signer: pki.ra.signer,
    });
    const inner = cmsDecrypt(cmsVerify(rep), pki.issuedClient);
    const crls = openssl(['pkcs7', '-inform', 'DER', '-print_certs'], inner).toString();
    assert.match(crls, /-----BEGIN X509 CRL-----/);
    assert.match(
      openssl(['pkcs7', '-inform', 'DER', '-print_certs', '-text', '-noout'], inner).toString(),
      /1234/,
    );
  });

  it('ok/FAILURE-verifies-with-empty-content', async () => {
    const req = decodePkiMessage(
      (
        await buildPkiRequest({
          body: { messageType: 'PKCSReq', csr: pki.csr },
          signer: pki.client.signer,
          recipients: [pki.ra.cert],
        })
      ).der,
    );
    const rep = await buildCertRep({
      request: req,
      status: 'FAILURE',
      failInfo: 'badRequest',
      failInfoText: 'bad challenge',
      signer: pki.ra.signer,
    });
    assert.equal(cmsVerify(rep, pki.ca.certPem).length, 0);
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file(rep)]).toString();
    assert.match(printed, /2\.16\.840\.1\.113733\.1\.9\.4/); // failInfo attribute present
    assert.match(printed, /bad challenge/);
  });
});

describe('we read what openssl cms builds', async () => {
  const encryptCases: { name: string; args: string[]; cipher: ContentCipher; keyTransport: KeyTransport }[] =
    [
      { name: 'aes256', args: ['-aes256'], cipher: 'aes-256-cbc', keyTransport: 'rsa-pkcs1' },
      { name: 'aes128', args: ['-aes128'], cipher: 'aes-128-cbc', keyTransport: 'rsa-pkcs1' },
      { name: 'des3', args: ['-des3'], cipher: 'des-ede3-cbc', keyTransport: 'rsa-pkcs1' },
      {
        name: 'des-legacy-provider',
        args: ['-provider', 'legacy', '-provider', 'default', '-des'],
        cipher: 'des-cbc',
        keyTransport: 'rsa-pkcs1',
      },
      {
        name: 'aes256-oaep-sha1',
        args: ['-aes256', '-keyopt', 'rsa_padding_mode:oaep'],
        cipher: 'aes-256-cbc',
        keyTransport: 'rsa-oaep',
      },
      {
        name: 'aes256-oaep-sha256',
        args: ['-aes256', '-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'],
        cipher: 'aes-256-cbc',
        keyTransport: 'rsa-oaep',
      },
    ];
  for (const c of encryptCases) {
    it(`ok/cms-encrypt-${c.name}`, async () => {
      const content = randomBytes(1000);
      // -keyopt applies to the -recip before it.
      const args = [
        'cms',
        '-encrypt',
        '-binary',
        '-outform',
        'DER',
        '-in',
        file(content),
        '-recip',
        pki.ra.certPem,
      ];
      const der = openssl([...args, ...c.args]);
      const opened = await openEnvelopedData(der, [pki.otherCa.decrypter!, pki.ra.decrypter!]);
      assert.equal(hex(opened.content), hex(content));
      assert.equal(opened.cipher, c.cipher);
      assert.equal(opened.keyTransport, c.keyTransport);
      assert.equal(opened.recipient, pki.ra.decrypter);
    });
  }

  const oaepRefused: [string, string[]][] = [
    ['mgf1-sha1-with-oaep-sha256', ['-keyopt', 'rsa_oaep_md:sha256', '-keyopt', 'rsa_mgf1_md:sha1']],
    ['oaep-label', ['-keyopt', 'rsa_oaep_label:0102']],
  ];
  for (const [name, keyopts] of oaepRefused) {
    it(`fail/cms-encrypt-${name} -> unsupportedAlgorithm`, async () => {
      const args = ['cms', '-encrypt', '-binary', '-outform', 'DER', '-in', file(pki.csr), '-aes128'];
      const der = openssl([
        ...args,
        '-recip',
        pki.ra.certPem,
        '-keyopt',
        'rsa_padding_mode:oaep',
        ...keyopts,
      ]);
      await assert.rejects(
        async () => openEnvelopedData(der, [pki.ra.decrypter!]),
        (e: unknown) => e instanceof ScepError && e.code === 'unsupportedAlgorithm',
      );
    });
  }

  it('ok/cms-encrypt-to-two-recipients', async () => {
    const der = openssl([
      'cms',
      '-encrypt',
      '-binary',
      '-outform',
      'DER',
      '-in',
      file(pki.csr),
      '-aes256',
      pki.ca.certPem,
      pki.ra.certPem,
    ]);
    assert.equal(hex((await openEnvelopedData(der, [pki.ra.decrypter!])).content), hex(pki.csr));
    assert.equal(hex((await openEnvelopedData(der, [pki.ca.decrypter!])).content), hex(pki.csr));
    await assert.rejects(
      async () => openEnvelopedData(der, [pki.client.decrypter!]),
      (e: unknown) => e instanceof ScepError && e.code === 'noRecipient',
    );
  });

  const signCases: { name: string; signer: 'client' | 'ra' | 'ecClient'; md: DigestName; extra: string[] }[] =
    [
      { name: 'rsa-sha256', signer: 'client', md: 'sha256', extra: [] },
      { name: 'rsa-sha1', signer: 'client', md: 'sha1', extra: [] },
      { name: 'rsa-sha512-with-chain', signer: 'ra', md: 'sha512', extra: ['-certfile', 'ca'] },
      { name: 'ecdsa-sha256', signer: 'ecClient', md: 'sha256', extra: [] },
      { name: 'ecdsa-sha384', signer: 'ecClient', md: 'sha384', extra: [] },
    ];
  for (const c of signCases) {
    it(`ok/cms-sign-${c.name}`, () => {
      const signer = pki[c.signer];
      const content = randomBytes(300);
      const extra = c.extra.map((a) => (a === 'ca' ? pki.ca.certPem : a));
      const der = openssl([
        'cms',
        '-sign',
        '-binary',
        '-nodetach',
        '-outform',
        'DER',
        '-md',
        c.md,
        '-in',
        file(content),
        '-signer',
        signer.certPem,
        '-inkey',
        signer.keyPem,
        ...extra,
      ]);
      const parsed = parseSignedData(der);
      assert.equal(hex(parsed.content!), hex(content));
      const v = verifySignedData(parsed);
      assert.equal(hex(v.signerCertificate.der), hex(signer.cert));
      assert.equal(v.digest, c.md);
      if (c.extra.length) assert.equal(parsed.certificates.length, 2);
      // Flip one content byte: the messageDigest no longer matches.
      const tampered = Buffer.from(der);
      const at = tampered.indexOf(Buffer.from(content));
      tampered[at] = tampered[at]! ^ 1;
      assert.throws(
        () => verifySignedData(parseSignedData(tampered)),
        (e: unknown) => e instanceof ScepError && e.code === 'badSignature',
      );
    });
  }

  it('fail/cms-sign-noattr -> missingAttribute (SCEP needs authenticated attributes)', () => {
    const der = openssl([
      'cms',
      '-sign',
      '-binary',
      '-nodetach',
      '-noattr',
      '-outform',
      'DER',
      '-in',
      file(randomBytes(10)),
      '-signer',
      pki.client.certPem,
      '-inkey',
      pki.client.keyPem,
    ]);
    assert.throws(
      () => verifySignedData(parseSignedData(der)),
      (e: unknown) => e instanceof ScepError && e.code === 'missingAttribute',
    );
  });
});
