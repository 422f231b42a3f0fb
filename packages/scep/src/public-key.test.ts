import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import * as asn1js from 'asn1js';
import { publicKeyFromSpki } from './public-key.js';

const spkiOf = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  new Uint8Array(key.export({ type: 'spki', format: 'der' }));

test('publicKeyFromSpki: RSA keys (JWK path) are the same keys the DER decoder gives', () => {
  for (const [bits, e] of [
    [1024, 65537],
    [2048, 65537],
    [2048, 3],
    [3072, 65537],
  ] as const) {
    const pair = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: e });
    const spki = spkiOf(pair.publicKey);
    const key = publicKeyFromSpki(spki);
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, bits);
    assert.equal(key.asymmetricKeyDetails?.publicExponent, BigInt(e));
    assert.deepEqual(new Uint8Array(key.export({ type: 'spki', format: 'der' })), spki);
    const sig = sign('sha256', Buffer.from('x'), pair.privateKey);
    assert.ok(verify('sha256', Buffer.from('x'), key, sig));
  }
});

test('publicKeyFromSpki: EC keys go through the DER decoder', () => {
  for (const namedCurve of ['P-256', 'P-384']) {
    const pair = generateKeyPairSync('ec', { namedCurve });
    const spki = spkiOf(pair.publicKey);
    const key = publicKeyFromSpki(spki);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.deepEqual(new Uint8Array(key.export({ type: 'spki', format: 'der' })), spki);
  }
});

test('publicKeyFromSpki: the same bytes give the same KeyObject; a tree given is used', () => {
  const spki = spkiOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
  const tree = asn1js.fromBER(spki).result;
  const a = publicKeyFromSpki(spki, tree);
  assert.equal(publicKeyFromSpki(new Uint8Array(spki)), a);
});

test('publicKeyFromSpki: an RSA modulus that is not a positive minimal INTEGER is left to the DER decoder', () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const n = Buffer.from(jwk.n!, 'base64url');
  const e = Buffer.from(jwk.e!, 'base64url');
  const encode = (modulus: Buffer) =>
    new Uint8Array(
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({
            value: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.1.1' }), new asn1js.Null()],
          }),
          new asn1js.BitString({
            valueHex: new asn1js.Sequence({
              value: [new asn1js.Integer({ valueHex: modulus }), new asn1js.Integer({ valueHex: e })],
            }).toBER(),
          }),
        ],
      }).toBER(),
    );
  // Negative (no 0x00 before a high bit): whatever OpenSSL does with it, the answer is the DER decoder's.
  const negative = encode(n);
  let viaDer: unknown;
  try {
    viaDer = createPublicKey({ key: Buffer.from(negative), format: 'der', type: 'spki' }).export({
      format: 'jwk',
    });
  } catch (err) {
    viaDer = err instanceof Error ? err.constructor : err;
  }
  let ours: unknown;
  try {
    ours = publicKeyFromSpki(negative).export({ format: 'jwk' });
  } catch (err) {
    ours = err instanceof Error ? err.constructor : err;
  }
  assert.deepEqual(ours, viaDer);
  // Well formed: the JWK path, and the same key.
  const good = encode(Buffer.concat([Buffer.of(0), n]));
  assert.equal(publicKeyFromSpki(good).export({ format: 'jwk' }).n, jwk.n);
});

test('publicKeyFromSpki: garbage throws', () => {
  assert.throws(() => publicKeyFromSpki(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)));
  assert.throws(() => publicKeyFromSpki(Uint8Array.of(0xff, 0xff)));
});
