import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseCsr } from './csr.js';
import { PolicyError } from '../errors.js';
import * as pkijs from 'pkijs';
import { fromPem, toArrayBuffer } from '../bytes.js';
import { nameFromString } from '../init/names.js';
import { OID } from '../oids.js';
import { makeCsr } from '../testing/csr.js';
import { TempDir, openssl } from '../testing/openssl.js';

async function opensslCsr(
  dir: TempDir,
  name: string,
  challenge: string,
  extraConfig: string,
): Promise<Uint8Array> {
  const conf = await dir.file(
    `${name}.cnf`,
    `[req]\nprompt=no\ndistinguished_name=dn\nattributes=attrs\n${extraConfig}\n[dn]\nCN=openssl-device\n[attrs]\nchallengePassword=${challenge}\n`,
  );
  const r = await openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    dir.join(`${name}.key`),
    '-config',
    conf,
    '-out',
    dir.join(`${name}.csr`),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const der = fromPem(await readFile(dir.join(`${name}.csr`), 'utf8'), 'CERTIFICATE REQUEST')[0];
  assert.ok(der);
  return der;
}

test('csr/challenge-string-types from openssl req: PrintableString and UTF8String', async () => {
  const dir = await TempDir.create();
  try {
    const printable = await opensslCsr(dir, 'p', 'secret123', 'string_mask=default');
    const utf8 = await opensslCsr(dir, 'u', 'sécret-ü', 'string_mask=utf8only\nutf8=yes');
    // the attribute really has the tag we claim: 19 PrintableString, 12 UTF8String
    const tagOf = (csr: Uint8Array) =>
      pkijs.CertificationRequest.fromBER(toArrayBuffer(csr)).attributes?.find(
        (a) => a.type === OID.challengePassword,
      )?.values[0]?.idBlock.tagNumber;
    assert.equal(tagOf(printable), 19);
    assert.equal(tagOf(utf8), 12);
    assert.equal(parseCsr(printable).challengePassword, 'secret123');
    assert.equal(parseCsr(utf8).challengePassword, 'sécret-ü');
  } finally {
    await dir.remove();
  }
});

// Adversarial inputs: every one must be a typed badRequest, never a crash or a hang.
test('fail/malformed-csr-der', async () => {
  const good = await makeCsr({ challenge: 'x' });
  const deep = new Uint8Array(2 * 2000);
  for (let i = 0; i < 2000; i++) {
    deep[2 * i] = 0x30;
    deep[2 * i + 1] = 0x80; // indefinite length, nested 2000 deep
  }
  const cases: Record<string, Uint8Array> = {
    empty: new Uint8Array(0),
    truncated: good.subarray(0, good.length - 10),
    'wrong-outer-tag': Uint8Array.from([0x31, ...good.subarray(1)]),
    'huge-length': Uint8Array.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00]),
    'deep-nesting': deep,
    'trailing-garbage-only': Uint8Array.from([0x00, 0x00]),
    'certificate-not-csr': Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]),
  };
  for (const [name, der] of Object.entries(cases)) {
    assert.throws(
      () => parseCsr(der),
      (e: unknown) => e instanceof PolicyError && (e.code === 'badRequest' || e.code === 'badMessageCheck'),
      name,
    );
  }
});

test('csr/tree-from-openScepRequest-read-without-a-second-parse, same result as a fresh parse', async () => {
  const { generateKeyPairSync } = await import('node:crypto');
  const scep = await import('@scepkit/scep');
  const ra = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const raCert = scep.selfSignedCertificate({ subject: nameFromString('CN=RA'), privateKey: ra.privateKey });
  const csr = await makeCsr({ challenge: 'pw-123', subject: 'CN=dev-7, O=Org', extensions: [] });
  const device = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signerCert = scep.selfSignedCertificate({
    subject: nameFromString('CN=dev-7'),
    privateKey: device.privateKey,
  });
  const req = await scep.buildPkiRequest({
    body: { messageType: 'PKCSReq', csr },
    signer: scep.keyObjectSigner(signerCert, device.privateKey),
    recipients: [raCert],
  });
  const opened = await scep.openScepRequest(scep.decodePkiMessage(req.der), [
    scep.keyObjectDecrypter(raCert, ra.privateKey),
  ]);
  assert.equal(opened.body.messageType, 'PKCSReq');
  const received = (opened.body as { csr: Uint8Array }).csr;
  assert.ok(scep.parsedCsrTree(received), 'openScepRequest left its tree for the CA');
  const copy = Uint8Array.from(received);
  assert.equal(scep.parsedCsrTree(copy), undefined, 'only for those very bytes');
  const shared = parseCsr(received);
  const fresh = parseCsr(copy);
  assert.deepEqual({ ...shared, der: null }, { ...fresh, der: null });
  assert.equal(shared.challengePassword, 'pw-123');
  assert.equal(shared.subjectText, 'CN=dev-7, O=Org');
  assert.deepEqual(Buffer.from(received), Buffer.from(csr));
});
