import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { CaError } from '../errors.js';
import { keyIdentifier } from './extensions.js';

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();

test('ok/key-identifier-is-sha1-of-the-subjectPublicKey-bits (RFC 5280 4.2.1.2 method 1)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  const spki = rsa.export({ type: 'spki', format: 'der' });
  // For RSA the BIT STRING holds the PKCS#1 RSAPublicKey.
  assert.deepEqual(Buffer.from(keyIdentifier(spki)), sha1(rsa.export({ type: 'pkcs1', format: 'der' })));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
  const jwk = ec.export({ format: 'jwk' });
  // For EC it holds the uncompressed point 04 || x || y.
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  assert.deepEqual(Buffer.from(keyIdentifier(ec.export({ type: 'spki', format: 'der' }))), sha1(point));
});

test('fail/key-identifier-of-something-else', () => {
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  for (const bad of [
    new Uint8Array(0),
    spki.subarray(0, spki.length - 1),
    Buffer.concat([spki, Buffer.from([0])]),
    Buffer.from('3003020101', 'hex'),
    Buffer.from('30060500030100', 'hex').subarray(0, 4),
  ]) {
    assert.throws(
      () => keyIdentifier(bad),
      (e: unknown) => e instanceof CaError && e.code === 'bad-key',
    );
  }
});
