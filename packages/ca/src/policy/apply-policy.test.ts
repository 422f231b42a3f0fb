import { test } from 'node:test';
import assert from 'node:assert/strict';
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { applyPolicy, type IssuanceDecision } from './apply-policy.js';
import { parseCsr } from './csr.js';
import { resolveProfile, type IssuanceProfileOptions } from './profile.js';
import { PolicyError, type FailInfo } from '../errors.js';
import { OID } from '../oids.js';
import { signWithCa } from '../certs/issue.js';
import { generateSerial } from '../serial.js';
import { testCa } from '../testing/fixtures.js';
import {
  basicConstraints,
  breakSignature,
  eku,
  keyUsage,
  makeCsr,
  san,
  sidExtension,
  sidUri,
  type CsrOptions,
} from '../testing/csr.js';
import { TempDir, openssl, opensslVerify } from '../testing/openssl.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');

async function decide(
  csr: CsrOptions,
  profile: IssuanceProfileOptions = {},
  extra: { validatedByIntune?: boolean; validityDays?: number } = {},
): Promise<IssuanceDecision> {
  const { identity } = await testCa();
  return applyPolicy({
    csr: parseCsr(await makeCsr(csr)),
    profile: resolveProfile(profile),
    ca: identity,
    now: NOW,
    validatedByIntune: extra.validatedByIntune ?? false,
    ...(extra.validityDays === undefined ? {} : { validityDays: extra.validityDays }),
  });
}

async function issue(d: IssuanceDecision): Promise<x509.X509Certificate> {
  const { identity } = await testCa();
  const der = await signWithCa(identity, { serial: generateSerial().bytes, ...d });
  return new x509.X509Certificate(der);
}

function isPolicyError(failInfo: FailInfo, re?: RegExp) {
  return (e: unknown) =>
    e instanceof PolicyError && e.code === failInfo && (re === undefined || re.test(e.reason));
}

function sanItems(cert: x509.X509Certificate) {
  return cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
}

test('ok/subject-order-and-string-types-kept-byte-for-byte', async () => {
  // C, O, OU, CN like micromdm's client; CN as UTF8String, O as PrintableString.
  const rdn = (type: string, value: asn1js.PrintableString | asn1js.Utf8String) =>
    new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type, value }).toSchema()] });
  const name = new asn1js.Sequence({
    value: [
      rdn('2.5.4.6', new asn1js.PrintableString({ value: 'US' })),
      rdn('2.5.4.10', new asn1js.PrintableString({ value: 'Org' })),
      rdn('2.5.4.11', new asn1js.Utf8String({ value: 'Unit' })),
      rdn('2.5.4.3', new asn1js.Utf8String({ value: 'dévice-ü' })),
    ],
  });
  const subjectDer = new Uint8Array(name.toBER());
  const d = await decide({ subject: subjectDer });
  assert.deepEqual(d.subject, subjectDer);
  const cert = await issue(d);
  const certSubject = pkijs.Certificate.fromBER(cert.rawData).subject.toSchema().toBER();
  assert.deepEqual(new Uint8Array(certSubject), subjectDer);
  assert.equal(cert.subject, 'C=US, O=Org, OU=Unit, CN=dévice-ü');
  assert.equal(d.subjectText, 'C=US, O=Org, OU=Unit, CN=dévice-ü');
});

test('ok/subject-with-non-DER-lengths-goes-through-asn1js (bytes are copied as they are only when lengths are DER)', async () => {
  const d = await decide({ subject: 'CN=ber-device, O=Org' });
  // The same Name with its outer length in long form (0x81 n): BER, kept as given like any subject.
  const der = Buffer.from(d.subject);
  assert.equal(der[1]! < 128, true);
  const ber = Buffer.concat([Buffer.from([0x30, 0x81, der[1]!]), der.subarray(2)]);
  const cert = await issue({ ...d, subject: new Uint8Array(ber) });
  const certSubject = new Uint8Array(pkijs.Certificate.fromBER(cert.rawData).subject.toSchema().toBER());
  assert.deepEqual(certSubject, new Uint8Array(ber), 'asn1js re-encodes it as received');
  assert.equal(cert.subject, 'CN=ber-device, O=Org');
});

test('ok/each-san-type-honoured: email, UPN otherName, dNSName, URI', async () => {
  const d = await decide({
    extensions: [
      san([
        { type: 'email', value: 'user@example.com' },
        { type: 'upn', value: 'user@corp.example.com' },
        { type: 'dns', value: 'device-1.example.com' },
        { type: 'url', value: 'urn:device:1' },
      ]),
    ],
  });
  assert.deepEqual(d.sans, [
    'email:user@example.com',
    'upn:user@corp.example.com',
    'dns:device-1.example.com',
    'uri:urn:device:1',
  ]);
  const cert = await issue(d);
  assert.deepEqual(sanItems(cert), [
    { type: 'email', value: 'user@example.com' },
    { type: 'upn', value: 'user@corp.example.com' },
    { type: 'dns', value: 'device-1.example.com' },
    { type: 'url', value: 'urn:device:1' },
  ]);
});

const refusals: {
  name: string;
  csr: CsrOptions;
  profile?: IssuanceProfileOptions;
  intune?: boolean;
  fail: FailInfo;
  re: RegExp;
}[] = [
  { name: 'fail/ca-true', csr: { extensions: [basicConstraints(true)] }, fail: 'badRequest', re: /CA:true/ },
  {
    name: 'fail/ku-keyCertSign',
    csr: { extensions: [keyUsage(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature)] },
    fail: 'badRequest',
    re: /keyCertSign/,
  },
  {
    name: 'fail/eku-not-allowed',
    csr: { extensions: [eku([OID.ocspSigning])] },
    fail: 'badRequest',
    re: /EKU/,
  },
  {
    name: 'fail/san-ip-not-allowed',
    csr: { extensions: [san([{ type: 'ip', value: '10.0.0.1' }])] },
    fail: 'badRequest',
    re: /SAN type ip/,
  },
  {
    name: 'fail/san-dns-disallowed-by-profile',
    csr: { extensions: [san([{ type: 'dns', value: 'a.example' }])] },
    profile: { allowedSanTypes: ['email'] },
    fail: 'badRequest',
    re: /SAN type dns/,
  },
  {
    name: 'fail/sid-uri-not-intune-validated',
    csr: { extensions: [san([sidUri('S-1-5-21-1-2-3-1001')])] },
    fail: 'badRequest',
    re: /SID URI/,
  },
  {
    name: 'fail/sid-ext-not-intune-validated',
    csr: { extensions: [sidExtension('S-1-5-21-1-2-3-1001')] },
    fail: 'badRequest',
    re: /SID extension/,
  },
  {
    name: 'fail/sid-uri-profile-never-even-if-intune',
    csr: { extensions: [san([sidUri('S-1-5-21-1-2-3-1001')])] },
    profile: { sid: 'never' },
    intune: true,
    fail: 'badRequest',
    re: /SID URI/,
  },
  { name: 'fail/rsa-1024-below-default-minimum', csr: { kind: 'rsa1024' }, fail: 'badAlg', re: /RSA 1024/ },
  {
    name: 'fail/rsa-1536-not-an-allowed-size',
    csr: { kind: 'rsa1536' },
    profile: { keys: { rsaMinBits: 1024 } },
    fail: 'badAlg',
    re: /RSA 1536/,
  },
  { name: 'fail/ec-p521-not-allowed', csr: { kind: 'p521' }, fail: 'badAlg', re: /P-521/ },
  {
    name: 'fail/ec-p384-disallowed-by-profile',
    csr: { kind: 'p384' },
    profile: { keys: { ecCurves: ['P-256'] } },
    fail: 'badAlg',
    re: /P-384/,
  },
  { name: 'fail/empty-subject-no-san', csr: { subject: '' }, fail: 'badRequest', re: /neither/ },
];

for (const c of refusals) {
  test(c.name, async () => {
    await assert.rejects(
      decide(c.csr, c.profile, { validatedByIntune: c.intune ?? false }),
      isPolicyError(c.fail, c.re),
    );
  });
}

test('ok/sid-uri-and-extension-when-intune-validated', async () => {
  const sid = 'S-1-5-21-1004336348-1177238915-682003330-512';
  const d = await decide(
    { extensions: [san([sidUri(sid)]), sidExtension(sid)] },
    {},
    { validatedByIntune: true },
  );
  const cert = await issue(d);
  assert.deepEqual(sanItems(cert), [{ type: 'url', value: `tag:microsoft.com,2022-09-14:sid:${sid}` }]);
  const ext = cert.getExtension(OID.ntdsCaSecurityExt);
  assert.ok(ext);
  assert.deepEqual(new Uint8Array(ext.value), new Uint8Array(sidExtension(sid).value));
});

test('ok/rsa-1024-when-profile-allows-it (Intune)', async () => {
  const d = await decide({ kind: 'rsa1024' }, { keys: { rsaMinBits: 1024 } });
  const cert = await issue(d);
  assert.equal((cert.publicKey.algorithm as unknown as { modulusLength: number }).modulusLength, 1024);
});

test('ok/disallowed-san-and-eku-dropped-when-onDisallowed=drop', async () => {
  const d = await decide(
    {
      extensions: [
        san([
          { type: 'ip', value: '10.0.0.1' },
          { type: 'dns', value: 'ok.example' },
        ]),
        eku([OID.ocspSigning]),
      ],
    },
    { onDisallowed: 'drop' },
  );
  const cert = await issue(d);
  assert.deepEqual(sanItems(cert), [{ type: 'dns', value: 'ok.example' }]);
  assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [OID.clientAuth]);
});

test('ok/ku-eku-from-csr-honoured', async () => {
  const d = await decide({
    kind: 'rsa2048',
    extensions: [keyUsage(x509.KeyUsageFlags.keyEncipherment), eku([OID.serverAuth, OID.clientAuth])],
  });
  const cert = await issue(d);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  assert.equal(ku?.usages, x509.KeyUsageFlags.keyEncipherment);
  assert.equal(ku?.critical, true);
  assert.deepEqual(
    [...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
    [OID.serverAuth, OID.clientAuth],
  );
});

test('ok/defaults-when-csr-has-none (Apple): clientAuth EKU, KU by key type', async () => {
  const ec = await issue(await decide({ kind: 'p256' }));
  assert.equal(ec.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
  assert.deepEqual([...(ec.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [OID.clientAuth]);
  const rsa = await issue(await decide({ kind: 'rsa2048' }));
  assert.equal(
    rsa.getExtension(x509.KeyUsagesExtension)?.usages,
    x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
  );
});

test('ok/not-honoured-extensions-dropped', async () => {
  const d = await decide(
    { extensions: [san([{ type: 'dns', value: 'x.example' }]), eku([OID.serverAuth])] },
    { honour: { subjectAltName: false, extKeyUsage: false } },
  );
  const cert = await issue(d);
  assert.equal(cert.getExtension(x509.SubjectAlternativeNameExtension), null);
  assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [OID.clientAuth]);
  // CA:false is accepted and not copied
  const d2 = await decide({ extensions: [basicConstraints(false)] });
  assert.equal(
    d2.extensions.some((e) => e.oid === OID.basicConstraints),
    false,
  );
});

test('ok/validity-capped-and-backdated', async () => {
  const d = await decide({}, { validityDays: 400, maxValidityDays: 30, backdateSeconds: 300 });
  assert.equal(d.notBefore.toISOString(), '2026-06-01T11:55:00.000Z');
  assert.equal(d.notAfter.toISOString(), '2026-07-01T12:00:00.000Z');
  const shorter = await decide({}, {}, { validityDays: 7 });
  assert.equal(shorter.notAfter.toISOString(), '2026-06-08T12:00:00.000Z');
  // never beyond the CA's own notAfter (2039-12-27)
  const long = await decide({}, { validityDays: 9000, maxValidityDays: 9000 });
  const { identity } = await testCa();
  assert.equal(long.notAfter.getTime(), identity.notAfter.getTime());
});

test('ok/cdp-aia-ski-aki-and-openssl-verify', async () => {
  const dir = await TempDir.create();
  try {
    const d = await decide(
      { extensions: [san([{ type: 'dns', value: 'd.example' }])] },
      {
        crlDistributionPoints: ['http://pki.example/ca.crl'],
        caIssuersUrls: ['http://pki.example/ca.cer'],
        ocspUrls: ['http://pki.example/ocsp'],
      },
    );
    const cert = await issue(d);
    const { identity, certificateDer } = await testCa();
    const text = await openssl([
      'x509',
      '-inform',
      'DER',
      '-noout',
      '-text',
      '-in',
      await dir.file('c.der', new Uint8Array(cert.rawData)),
    ]);
    assert.match(text.stdout, /URI:http:\/\/pki\.example\/ca\.crl/);
    assert.match(text.stdout, /CA Issuers - URI:http:\/\/pki\.example\/ca\.cer/);
    assert.match(text.stdout, /OCSP - URI:http:\/\/pki\.example\/ocsp/);
    assert.match(text.stdout, /X509v3 Subject Key Identifier/);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    assert.equal(aki?.keyId, Buffer.from(identity.keyId).toString('hex'));
    const v = await opensslVerify(
      dir,
      new Uint8Array(cert.rawData),
      certificateDer,
      [],
      ['-attime', String(NOW.getTime() / 1000)],
    );
    assert.equal(v.code, 0, v.stdout + v.stderr);
  } finally {
    await dir.remove();
  }
});

test('csr/challenge-password: long values kept whole; bad signature is badMessageCheck', async () => {
  const long = 'A'.repeat(4000) + '+/=';
  const parsed = parseCsr(await makeCsr({ challenge: long }));
  assert.equal(parsed.challengePassword, long);
  assert.equal(parseCsr(await makeCsr({})).challengePassword, null);
  const rsaCsr = await makeCsr({ kind: 'rsa2048' });
  assert.equal(parseCsr(rsaCsr).publicKey.type, 'rsa');
  assert.throws(() => parseCsr(breakSignature(rsaCsr)), isPolicyError('badMessageCheck'));
  const ecCsr = await makeCsr({ kind: 'p256' });
  assert.throws(() => parseCsr(breakSignature(ecCsr)), isPolicyError('badMessageCheck'));
});

test('fail/csr-garbage-is-badRequest', () => {
  assert.throws(() => parseCsr(new Uint8Array([0x30, 0x03, 0x02, 0x01])), isPolicyError('badRequest'));
});

test('ok/keyUsage-not-honoured: the profile default replaces the requested one', async () => {
  const d = await decide(
    { kind: 'rsa2048', extensions: [keyUsage(x509.KeyUsageFlags.dataEncipherment)] },
    { honour: { keyUsage: false }, defaultKeyUsage: { rsa: ['digitalSignature'] } },
  );
  const cert = await issue(d);
  assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
});

test('fail/duplicate-extension-in-csr', async () => {
  await assert.rejects(
    decide({ extensions: [eku([OID.clientAuth]), eku([OID.serverAuth])] }),
    isPolicyError('badRequest', /duplicate extension/),
  );
});

test('ok/decoded-ku-eku-reused-across-requests-and-profiles (cache): same decisions, refusals still per profile', async () => {
  const exts = [keyUsage(x509.KeyUsageFlags.digitalSignature), eku([OID.clientAuth, OID.ocspSigning])];
  // The same values twice under "drop" (the second decode comes from the cache), then under "refuse".
  for (let i = 0; i < 2; i++) {
    const cert = await issue(await decide({ kind: 'rsa2048', extensions: exts }, { onDisallowed: 'drop' }));
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
    assert.deepEqual(
      [...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
      [OID.clientAuth],
    );
  }
  await assert.rejects(decide({ kind: 'rsa2048', extensions: exts }), /EKU 1\.3\.6\.1\.5\.5\.7\.3\.9/);
  // A refused KU stays refused on every request, decoded or remembered.
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      decide({
        extensions: [keyUsage(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature)],
      }),
      /keyCertSign/,
    );
  }
});
