import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { Pkcs11Signer } from './pkcs11-signer.js';
import { selfSignCa } from '../init/root-ca.js';
import { signWithCa } from '../certs/issue.js';
import { keyUsageExtension } from '../certs/extensions.js';
import { generateSerial } from '../serial.js';
import { nameFromString } from '../init/names.js';
import { SignerError } from '../errors.js';
import { TempDir, openssl, opensslVerify, run } from '../testing/openssl.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '1234';

/** A temporary SoftHSM2 token (own config + token dir), with keys imported through softhsm2-util. */
async function softhsm(dir: TempDir): Promise<NodeJS.ProcessEnv> {
  await mkdir(dir.join('tokens'));
  const conf = await dir.file(
    'softhsm2.conf',
    `directories.tokendir = ${dir.join('tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  // SoftHSM reads SOFTHSM2_CONF at C_Initialize: point this process at the temporary token directory.
  process.env['SOFTHSM2_CONF'] = conf;
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const init = await run(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'scepkit-test', '--pin', PIN, '--so-pin', '5678'],
    env,
  );
  assert.equal(init.code, 0, init.stderr + init.stdout);
  return env;
}

async function importKey(
  dir: TempDir,
  env: NodeJS.ProcessEnv,
  label: string,
  id: string,
  type: 'rsa' | 'ec',
) {
  const { privateKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const path = dir.join(`${label}.pem`);
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const r = await run(
    'softhsm2-util',
    ['--import', path, '--token', 'scepkit-test', '--label', label, '--id', id, '--pin', PIN],
    env,
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
}

test('pkcs11: SoftHSM2 RSA and EC keys sign a CA and a leaf that openssl verify accepts', async () => {
  const dir = await TempDir.create();
  try {
    const env = await softhsm(dir);
    await importKey(dir, env, 'ca-rsa', '01', 'rsa');
    await importKey(dir, env, 'ca-ec', '02', 'ec');
    for (const [label, sigText] of [
      ['ca-rsa', /sha256WithRSAEncryption/],
      ['ca-ec', /ecdsa-with-SHA384/],
    ] as const) {
      const signer = await Pkcs11Signer.open({
        module: MODULE,
        tokenLabel: 'scepkit-test',
        pin: PIN,
        keyLabel: label,
      });
      try {
        const ca = await selfSignCa(signer, { subject: `CN=HSM ${label}` });
        // concurrent signatures are serialised on the one session
        const leaves = await Promise.all(
          [1, 2, 3].map((i) =>
            signWithCa(ca, {
              serial: generateSerial().bytes,
              subject: nameFromString(`CN=leaf-${i}`),
              spki: signer.publicKeySpki,
              notBefore: new Date(Date.now() - 60_000),
              notAfter: new Date(Date.now() + 86_400_000),
              extensions: [keyUsageExtension(['digitalSignature'])],
            }),
          ),
        );
        for (const leaf of leaves) {
          const v = await opensslVerify(dir, leaf, ca.certificateDer);
          assert.equal(v.code, 0, v.stdout + v.stderr);
          assert.ok(
            await new x509.X509Certificate(leaf).verify({
              publicKey: new x509.X509Certificate(ca.certificateDer).publicKey,
              signatureOnly: true,
            }),
          );
        }
        const text = await openssl([
          'x509',
          '-inform',
          'DER',
          '-noout',
          '-text',
          '-in',
          await dir.file('ca.der', ca.certificateDer),
        ]);
        assert.match(text.stdout, sigText);
      } finally {
        await signer.close();
      }
    }
    await assert.rejects(
      Pkcs11Signer.open({ module: MODULE, tokenLabel: 'scepkit-test', pin: PIN, keyLabel: 'missing' }),
      (e: unknown) => e instanceof SignerError && /not found/.test(e.message),
    );
    await assert.rejects(
      Pkcs11Signer.open({ module: MODULE, tokenLabel: 'scepkit-test', pin: '0000', keyLabel: 'ca-rsa' }),
      (e: unknown) => e instanceof SignerError && e.code === 'pkcs11',
    );
  } finally {
    await dir.remove();
  }
});
