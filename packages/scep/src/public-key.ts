import { createPublicKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { asBuffer } from './der.js';
import { OID } from './oids.js';

/** How many recently imported public keys are kept (a PKCSReq's signer certificate and CSR carry the same key). */
const RECENT_KEYS = 64;
const recent = new Map<string, KeyObject>();

/**
 * The KeyObject of a DER SubjectPublicKeyInfo. An RSA key (rsaEncryption, the common case) is imported from its
 * modulus and exponent as a JWK, which OpenSSL 3 does ~20x faster than decoding the DER (0.007 against 0.17 ms
 * here); other keys, and any RSA encoding this does not read, go through the DER decoder. The last few keys are
 * remembered, so the same key in a request's signer certificate and in its CSR is imported once. `tree` is the
 * SPKI as asn1js already parsed it, when there is one.
 * @throws whatever `createPublicKey` throws for a key it cannot import
 */
export function publicKeyFromSpki(spki: Uint8Array, tree?: asn1js.AsnType): KeyObject {
  const id = asBuffer(spki).toString('base64');
  const hit = recent.get(id);
  if (hit) {
    recent.delete(id);
    recent.set(id, hit);
    return hit;
  }
  let jwk: JsonWebKey | undefined;
  try {
    jwk = rsaJwk(tree ?? asn1js.fromBER(spki).result);
  } catch {
    jwk = undefined; // asn1js throws on some contents: the DER decoder decides
  }
  const key = jwk
    ? createPublicKey({ key: jwk, format: 'jwk' })
    : createPublicKey({ key: asBuffer(spki), format: 'der', type: 'spki' });
  recent.set(id, key);
  if (recent.size > RECENT_KEYS) recent.delete(recent.keys().next().value!);
  return key;
}

/**
 * `SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { RSAPublicKey } }` (RFC 3279 §2.3.1) as a JWK, or
 * undefined for anything else, including integers that are not positive and minimally encoded.
 */
function rsaJwk(spki: asn1js.AsnType): JsonWebKey | undefined {
  if (!(spki instanceof asn1js.Sequence) || spki.valueBlock.value.length !== 2) return undefined;
  const [alg, bits] = spki.valueBlock.value;
  if (!(alg instanceof asn1js.Sequence) || !(bits instanceof asn1js.BitString)) return undefined;
  const [oid, params, more] = alg.valueBlock.value;
  if (!(oid instanceof asn1js.ObjectIdentifier) || oid.valueBlock.toString() !== OID.rsaEncryption)
    return undefined;
  if (!(params instanceof asn1js.Null) || more !== undefined) return undefined;
  if (bits.idBlock.isConstructed || bits.valueBlock.unusedBits !== 0) return undefined;
  const der = bits.valueBlock.valueHexView;
  const parsed = asn1js.fromBER(der);
  if (parsed.offset !== der.byteLength || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const [n, e, extra] = parsed.result.valueBlock.value;
  if (!(n instanceof asn1js.Integer) || !(e instanceof asn1js.Integer) || extra !== undefined)
    return undefined;
  const modulus = positive(n.valueBlock.valueHexView);
  const exponent = positive(e.valueBlock.valueHexView);
  if (!modulus || !exponent) return undefined;
  return { kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') };
}

/** The magnitude of a positive, minimally encoded INTEGER, or undefined. */
function positive(v: Uint8Array): Buffer | undefined {
  if (v.length === 0 || (v[0]! & 0x80) !== 0) return undefined;
  if (v[0] === 0) return v.length > 1 && (v[1]! & 0x80) !== 0 ? asBuffer(v.subarray(1)) : undefined;
  return asBuffer(v);
}
