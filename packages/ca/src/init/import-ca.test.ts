import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { importCa, importPkcs12 } from './import-ca.js';
import { KeyError } from '../errors.js';
import { fromPem } from '../bytes.js';
import { signWithCa } from '../certs/issue.js';
import { generateSerial } from '../serial.js';
import { nameFromString } from './names.js';
import { TempDir, openssl, opensslVerify } from '../testing/openssl.js';
import { makeCsr } from '../testing/csr.js';
import { Authority } from '../enroll/authority.js';
import { NoneChallengeVerifier } from '../challenge/none-verifier.js';
import { SqliteStore } from '../store/index.js';

let dir: TempDir;
const f = (name: string) => dir.join(name);

async function ok(args: string[]): Promise<void> {
  const r = await openssl(args);
  assert.equal(r.code, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

// A corporate-style hierarchy made by openssl: EC root -> RSA subordinate (the CA scepkit runs).
before(async () => {
  dir = await TempDir.create();
  await dir.file(
    'ca.ext',
    'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  await dir.file('leaf.ext', 'basicConstraints=CA:false\n');
  await ok(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('root.key')]);
  await ok([
    'req',
    '-x509',
    '-new',
    '-key',
    f('root.key'),
    '-subj',
    '/CN=Corp Root',
    '-days',
    '3650',
    '-out',
    f('root.pem'),
  ]);
  await ok(['genrsa', '-traditional', '-out', f('sub.pkcs1.key'), '2048']);
  await ok([
    'req',
    '-new',
    '-key',
    f('sub.pkcs1.key'),
    '-subj',
    '/O=Corp/CN=Corp SCEP Sub CA',
    '-out',
    f('sub.csr'),
  ]);
  await ok([
    'x509',
    '-req',
    '-in',
    f('sub.csr'),
    '-CA',
    f('root.pem'),
    '-CAkey',
    f('root.key'),
    '-CAcreateserial',
    '-days',
    '1825',
    '-extfile',
    f('ca.ext'),
    '-out',
    f('sub.pem'),
  ]);
  await ok([
    'pkcs8',
    '-topk8',
    '-v2',
    'aes-256-cbc',
    '-in',
    f('sub.pkcs1.key'),
    '-passout',
    'pass:s3cret',
    '-out',
    f('sub.enc.key'),
  ]);
  await ok([
    'pkcs12',
    '-export',
    '-inkey',
    f('sub.pkcs1.key'),
    '-in',
    f('sub.pem'),
    '-certfile',
    f('root.pem'),
    '-passout',
    'pass:p12pass',
    '-out',
    f('sub.p12'),
  ]);
  await ok([
    'x509',
    '-req',
    '-in',
    f('sub.csr'),
    '-CA',
    f('root.pem'),
    '-CAkey',
    f('root.key'),
    '-CAcreateserial',
    '-days',
    '30',
    '-extfile',
    f('leaf.ext'),
    '-out',
    f('notca.pem'),
  ]);
});

after(async () => {
  await dir.remove();
});

async function leafVerifies(identity: Awaited<ReturnType<typeof importPkcs12>>['identity']): Promise<void> {
  const leaf = await signWithCa(identity, {
    serial: generateSerial().bytes,
    subject: nameFromString('CN=leaf'),
    spki: identity.signer.publicKeySpki,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [],
  });
  const [root] = identity.chain.slice(-1);
  const v = await opensslVerify(dir, leaf, root ?? new Uint8Array(), identity.chain.slice(0, -1));
  assert.equal(v.code, 0, v.stdout + v.stderr);
}

test('ok/import-subordinate-pem-encrypted-pkcs8-with-chain', async () => {
  const sub = await readFile(f('sub.pem'), 'utf8');
  const root = await readFile(f('root.pem'), 'utf8');
  const { identity, privateKey } = importCa({
    certificate: sub,
    chain: root,
    key: await readFile(f('sub.enc.key'), 'utf8'),
    passphrase: 's3cret',
  });
  assert.equal(privateKey.asymmetricKeyType, 'rsa');
  assert.deepEqual(identity.chain, [fromPem(sub, 'CERTIFICATE')[0], fromPem(root, 'CERTIFICATE')[0]]);
  assert.equal(identity.signer.algorithm.oid, '1.2.840.113549.1.1.11');
  await leafVerifies(identity);
});

test('ok/subordinate-ca-enrolls: Authority returns [sub, root] and openssl verifies the leaf through the chain', async () => {
  const { identity } = importCa({
    certificate: await readFile(f('sub.pem'), 'utf8'),
    chain: await readFile(f('root.pem'), 'utf8'),
    key: await readFile(f('sub.pkcs1.key'), 'utf8'),
  });
  const store = new SqliteStore({ filename: ':memory:' });
  await store.migrate();
  try {
    const authority = new Authority({
      ca: identity,
      store,
      profiles: { p: { verifier: new NoneChallengeVerifier() } },
    });
    const r = await authority.enroll({
      messageType: 'PKCSReq',
      transactionId: 't',
      csrDer: await makeCsr({}),
      profile: 'p',
    });
    assert.equal(r.status, 'SUCCESS');
    if (r.status !== 'SUCCESS') return;
    assert.deepEqual(r.chain, identity.chain);
    const [sub, root] = r.chain;
    assert.ok(sub && root);
    const v = await opensslVerify(dir, r.certificateDer, root, [sub]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const text = await openssl([
      'x509',
      '-inform',
      'DER',
      '-noout',
      '-issuer',
      '-in',
      await dir.file('leaf.der', r.certificateDer),
    ]);
    assert.match(text.stdout, /issuer=O = Corp, CN = Corp SCEP Sub CA/);
  } finally {
    await store.close();
  }
});

test('ok/import-pkcs1-key-and-bundle-in-one-pem', async () => {
  const bundle = (await readFile(f('sub.pem'), 'utf8')) + (await readFile(f('root.pem'), 'utf8'));
  const { identity } = importCa({ certificate: bundle, key: await readFile(f('sub.pkcs1.key'), 'utf8') });
  assert.equal(identity.chain.length, 2);
});

test('ok/import-pkcs12 (OpenSSL 3 default PBES2/AES)', async () => {
  const { identity } = await importPkcs12(new Uint8Array(await readFile(f('sub.p12'))), 'p12pass');
  assert.equal(identity.chain.length, 2);
  assert.deepEqual(identity.chain[0], fromPem(await readFile(f('sub.pem'), 'utf8'), 'CERTIFICATE')[0]);
  await leafVerifies(identity);
});

const isKeyError = (code: KeyError['code']) => (e: unknown) => e instanceof KeyError && e.code === code;

test('fail/import: wrong passphrases, mismatched key, missing root, not a CA', async () => {
  const sub = await readFile(f('sub.pem'), 'utf8');
  const root = await readFile(f('root.pem'), 'utf8');
  const encKey = await readFile(f('sub.enc.key'), 'utf8');
  const pkcs1 = await readFile(f('sub.pkcs1.key'), 'utf8');
  const rootKey = await readFile(f('root.key'), 'utf8');
  const notCa = await readFile(f('notca.pem'), 'utf8');
  assert.throws(
    () => importCa({ certificate: sub, chain: root, key: encKey, passphrase: 'nope' }),
    isKeyError('bad-passphrase'),
  );
  await assert.rejects(
    importPkcs12(new Uint8Array(await readFile(f('sub.p12'))), 'nope'),
    isKeyError('bad-passphrase'),
  );
  assert.throws(() => importCa({ certificate: sub, chain: root, key: rootKey }), isKeyError('key-mismatch'));
  assert.throws(
    () => importCa({ certificate: sub, key: pkcs1 }),
    (e: unknown) => e instanceof KeyError && e.code === 'bad-format' && /self-signed root/.test(e.message),
  );
  assert.throws(
    () => importCa({ certificate: notCa, chain: root, key: pkcs1 }),
    (e: unknown) => e instanceof KeyError && /not a CA/.test(e.message),
  );
});
