import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { buildCsr, parseCsr } from './csr.js';
import { ChallengeValidationError } from './errors.js';
import type { ExpectedCsr } from './model.js';
import { sharedDeviceKeys } from './testdata/fixture.js';

const expected: ExpectedCsr = {
  subject: 'CN=device-1, OU=Devices, O=Contoso',
  subjectAlternativeNames: [
    { type: 'uri', value: 'IntuneDeviceId://1234' },
    { type: 'upn', value: 'alice@contoso.onmicrosoft.com' },
    { type: 'email', value: 'Alice@Contoso.example' },
    { type: 'dns', value: 'device-1.contoso.example' },
  ],
  keyUsage: 5,
  keySize: 2048,
  extendedKeyUsages: ['1.3.6.1.5.5.7.3.2', '1.3.6.1.4.1.311.20.2.2'],
};

const decodingFailed = (err: unknown): boolean =>
  err instanceof ChallengeValidationError && err.code === 'CertificateRequestDecodingFailed';

/** A CSR signed with the fixed 2048-bit device key, with any extensions and attributes. */
async function rawCsr(
  extensions: x509.Extension[],
  attributes: x509.Attribute[],
  keys?: webcrypto.CryptoKeyPair,
  signingAlgorithm: webcrypto.EcdsaParams | { name: string; hash: string } = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
  },
): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: 'CN=x',
      keys: keys ?? (await sharedDeviceKeys(2048)),
      signingAlgorithm,
      extensions,
      attributes,
    },
    webcrypto,
  );
  return Buffer.from(csr.rawData).toString('base64');
}

describe('parseCsr', () => {
  it('ok/contents: subject, SANs, key usage, EKUs, key size, SPKI hash and challenge as built', async () => {
    const keys = await sharedDeviceKeys(2048);
    const csr = await buildCsr(expected, { challenge: 'c'.repeat(6000), keys });
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const parsed = await parseCsr(csr.base64);
    assert.deepEqual(parsed, {
      subject: expected.subject,
      subjectAlternativeNames: expected.subjectAlternativeNames,
      keyUsage: 5,
      extendedKeyUsages: expected.extendedKeyUsages,
      keySize: 2048,
      spkiSha256: createHash('sha256').update(spki).digest('hex'),
      challengePassword: 'c'.repeat(6000),
    });
    // A second parse of the same request answers the same, in objects of its own.
    parsed.subjectAlternativeNames.pop();
    parsed.extendedKeyUsages?.pop();
    const again = await parseCsr(csr.base64);
    assert.equal(again.subjectAlternativeNames.length, 4);
    assert.equal(again.extendedKeyUsages?.length, 2);
  });

  it('ok/other-shapes: IP/DN names, a 1024-bit key, ECDSA, no extensions, base64 of the PEM text', async () => {
    const san = new x509.SubjectAlternativeNameExtension([
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'dn', value: 'CN=dir, O=x' },
    ]);
    const parsed = await parseCsr(await rawCsr([san], [new x509.ChallengePasswordAttribute('p')]));
    assert.deepEqual(parsed.subjectAlternativeNames, [
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'dn', value: 'CN=dir, O=x' },
    ]);
    assert.equal(parsed.challengePassword, 'p');

    const small = await parseCsr(await rawCsr([], [], await sharedDeviceKeys(1024)));
    assert.equal(small.keySize, 1024);
    assert.equal(small.challengePassword, undefined);
    assert.equal(small.keyUsage, undefined);
    assert.equal(small.extendedKeyUsages, undefined);
    assert.deepEqual(small.subjectAlternativeNames, []);

    const ec = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const ecParsed = await parseCsr(await rawCsr([], [], ec, { name: 'ECDSA', hash: 'SHA-256' }));
    assert.equal(ecParsed.keySize, 0);

    const der = Buffer.from(await rawCsr([], [new x509.ChallengePasswordAttribute('p')]), 'base64');
    const pem = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    assert.equal((await parseCsr(Buffer.from(pem).toString('base64'))).challengePassword, 'p');
  });

  it('fail/CertificateRequestDecodingFailed: not base64, not a CSR, a broken signature', async () => {
    await assert.rejects(parseCsr('not base64!'), decodingFailed);
    await assert.rejects(parseCsr('   '), decodingFailed);
    await assert.rejects(parseCsr(Buffer.from('definitely not a CSR').toString('base64')), decodingFailed);
    const der = Buffer.from(await rawCsr([], [new x509.ChallengePasswordAttribute('p')]), 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    await assert.rejects(parseCsr(der.toString('base64')), decodingFailed);
  });

  // These were thrown past the decoding check before (a 500 InternalError from the emulator).
  it('fail/CertificateRequestDecodingFailed: a challengePassword or SAN/KU that does not decode', async () => {
    const ia5 = new x509.Attribute('1.2.840.113549.1.9.7', [new asn1js.IA5String({ value: 'pw' }).toBER()]);
    await assert.rejects(parseCsr(await rawCsr([], [ia5])), decodingFailed);
    const badSan = new x509.Extension('2.5.29.17', false, new Uint8Array([1, 2, 3]));
    await assert.rejects(parseCsr(await rawCsr([badSan], [])), decodingFailed);
    const badKu = new x509.Extension('2.5.29.15', false, new Uint8Array([4, 0]));
    await assert.rejects(parseCsr(await rawCsr([badKu], [])), decodingFailed);
    const badRequest = new x509.Attribute('1.2.840.113549.1.9.14', [
      new asn1js.Integer({ value: 1 }).toBER(),
    ]);
    await assert.rejects(parseCsr(await rawCsr([], [badRequest])), decodingFailed);
  });
});
