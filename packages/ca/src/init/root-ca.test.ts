import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createRootCa, issueOcspSignerCertificate, issueRaCertificate } from './root-ca.js';
import { readPrivateKeyFile, writePrivateKeyFile } from '../keys/key-files.js';
import { KeyError } from '../errors.js';
import { OID } from '../oids.js';
import { TempDir, openssl, opensslVerify } from '../testing/openssl.js';
import type { KeySpec } from '../keys/key-pair.js';

const cases: { name: string; key: KeySpec; sigText: RegExp }[] = [
  { name: 'ok/rsa-2048', key: { type: 'rsa', bits: 2048 }, sigText: /sha256WithRSAEncryption/ },
  { name: 'ok/ec-p256', key: { type: 'ec', curve: 'P-256' }, sigText: /ecdsa-with-SHA256/ },
  { name: 'ok/ec-p384', key: { type: 'ec', curve: 'P-384' }, sigText: /ecdsa-with-SHA384/ },
];

for (const c of cases) {
  test(`root CA ${c.name}: self-signed, CA:true, openssl verifies it and an RA it issued`, async () => {
    const dir = await TempDir.create();
    try {
      const clock = () => new Date('2026-01-01T00:00:00.500Z');
      const ca = await createRootCa({
        subject: 'CN=Test Root, O=scepkit',
        key: c.key,
        validityDays: 3650,
        clock,
      });
      const cert = new x509.X509Certificate(ca.certificateDer);
      assert.equal(cert.subject, 'CN=Test Root, O=scepkit');
      assert.equal(cert.issuer, cert.subject);
      assert.equal(cert.notBefore.toISOString(), '2026-01-01T00:00:00.000Z');
      assert.equal(cert.notAfter.toISOString(), '2035-12-30T00:00:00.000Z');
      const bc = cert.getExtension(x509.BasicConstraintsExtension);
      assert.equal(bc?.ca, true);
      assert.equal(bc?.critical, true);
      const ku = cert.getExtension(x509.KeyUsagesExtension);
      assert.equal(ku?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
      assert.equal(cert.serialNumber.length, 32);
      assert.ok(/^[0-7]/.test(cert.serialNumber));
      assert.ok(await cert.verify({ signatureOnly: true }));

      const ra = await issueRaCertificate(ca.identity, { subject: 'CN=Test RA', validityDays: 365, clock });
      const raCert = new x509.X509Certificate(ra.certificateDer);
      assert.equal(raCert.issuer, 'CN=Test Root, O=scepkit');
      assert.equal(
        raCert.getExtension(x509.KeyUsagesExtension)?.usages,
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      );
      assert.deepEqual(
        [...(raCert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
        [OID.certificateRequestAgent, OID.clientAuth],
      );
      assert.equal(ra.privateKey.asymmetricKeyType, 'rsa');
      const text = await openssl([
        'x509',
        '-inform',
        'DER',
        '-noout',
        '-text',
        '-in',
        await dir.file('ra.der', ra.certificateDer),
      ]);
      assert.match(text.stdout, c.sigText);
      const v = await opensslVerify(dir, ra.certificateDer, ca.certificateDer, [], ['-attime', '1767312000']);
      assert.equal(v.code, 0, v.stderr + v.stdout);
      assert.match(v.stdout, /OK/);
    } finally {
      await dir.remove();
    }
  });
}

test('ok/single-ca-mode adds digitalSignature+keyEncipherment; OCSP signer has ocspSigning + nocheck', async () => {
  const ca = await createRootCa({
    subject: 'CN=Single',
    key: { type: 'ec', curve: 'P-256' },
    singleCaMode: true,
  });
  const ku = new x509.X509Certificate(ca.certificateDer).getExtension(x509.KeyUsagesExtension);
  assert.equal(
    ku?.usages,
    x509.KeyUsageFlags.digitalSignature |
      x509.KeyUsageFlags.keyEncipherment |
      x509.KeyUsageFlags.keyCertSign |
      x509.KeyUsageFlags.cRLSign,
  );
  const ocsp = await issueOcspSignerCertificate(ca.identity, { subject: 'CN=OCSP' });
  const oc = new x509.X509Certificate(ocsp.certificateDer);
  assert.deepEqual([...(oc.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [OID.ocspSigning]);
  assert.ok(oc.getExtension(OID.ocspNoCheck));
});

test('fail/ra-key-must-be-rsa', async () => {
  const ca = await createRootCa({ subject: 'CN=X', key: { type: 'ec', curve: 'P-256' } });
  await assert.rejects(
    issueRaCertificate(ca.identity, { subject: 'CN=RA', key: { type: 'ec', curve: 'P-256' } }),
    (e: unknown) => e instanceof KeyError && e.code === 'unsupported-key',
  );
});

test('ok/key-at-rest: encrypted PKCS#8 AES-256-CBC, mode 0600, wrong passphrase refused', async () => {
  const dir = await TempDir.create();
  try {
    const ca = await createRootCa({ subject: 'CN=K', key: { type: 'ec', curve: 'P-256' } });
    const path = dir.join('ca.key.pem');
    await writePrivateKeyFile(path, ca.privateKey, { passphrase: 'correct horse' });
    const st = await stat(path);
    assert.equal(st.mode & 0o777, 0o600);
    const pem = await readFile(path, 'utf8');
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const asn = await openssl(['asn1parse', '-in', path]);
    assert.match(asn.stdout, /aes-256-cbc/);
    const back = await readPrivateKeyFile(path, 'correct horse');
    assert.ok(back.equals(ca.privateKey));
    await assert.rejects(
      readPrivateKeyFile(path, 'wrong'),
      (e: unknown) => e instanceof KeyError && e.code === 'bad-passphrase',
    );
    await assert.rejects(
      writePrivateKeyFile(path, ca.privateKey, { clear: true }),
      (e: unknown) => e instanceof KeyError && e.code === 'io',
    );
    await writePrivateKeyFile(dir.join('clear.pem'), ca.privateKey, { clear: true });
    assert.match(await readFile(dir.join('clear.pem'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  } finally {
    await dir.remove();
  }
});
