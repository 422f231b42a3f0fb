import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { toArrayBuffer, toHex } from '../bytes.js';
import { CaError } from '../errors.js';
import { OID } from '../oids.js';
import type { ExtensionSpec } from './certificate-builder.js';

export type { ExtensionSpec };

/** KeyUsage bit names (RFC 5280 §4.2.1.3). */
export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

export const KEY_USAGE_FLAGS: Record<KeyUsageName, number> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
  encipherOnly: x509.KeyUsageFlags.encipherOnly,
  decipherOnly: x509.KeyUsageFlags.decipherOnly,
};

/** Key usage names set in a flag word. */
export function keyUsageNames(flags: number): KeyUsageName[] {
  return (Object.keys(KEY_USAGE_FLAGS) as KeyUsageName[]).filter((n) => (flags & KEY_USAGE_FLAGS[n]) !== 0);
}

function spec(ext: x509.Extension): ExtensionSpec {
  return { oid: ext.type, critical: ext.critical, value: new Uint8Array(ext.value) };
}

// KU/EKU values repeat across requests (a handful of combinations): encode each combination once.
const kuCache = new Map<number, ExtensionSpec>();
const ekuCache = new Map<string, ExtensionSpec>();
const CACHE_LIMIT = 256;

function remember<K>(cache: Map<K, ExtensionSpec>, key: K, make: () => ExtensionSpec): ExtensionSpec {
  let hit = cache.get(key);
  if (!hit) {
    hit = make();
    if (cache.size < CACHE_LIMIT) cache.set(key, hit);
  }
  return hit;
}

export function keyUsageExtension(usages: readonly KeyUsageName[]): ExtensionSpec {
  const flags = usages.reduce((acc, u) => acc | KEY_USAGE_FLAGS[u], 0);
  return remember(kuCache, flags, () => spec(new x509.KeyUsagesExtension(flags, true)));
}

export function extKeyUsageExtension(oids: readonly string[]): ExtensionSpec {
  return remember(ekuCache, oids.join(' '), () => spec(new x509.ExtendedKeyUsageExtension([...oids], false)));
}

export function basicConstraintsExtension(ca: boolean, pathLength?: number): ExtensionSpec {
  return spec(new x509.BasicConstraintsExtension(ca, pathLength, true));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }: read by position (a pkijs
  // schema match here cost as much as the rest of the certificate's extensions). Without embedded parsing: asn1js
  // would otherwise also decode the key inside the BIT STRING (the RSA modulus), 2.5x the time of the rest.
  const parsed = asn1js.fromBER(spki, { parseEmbedded: false });
  const fields = parsed.result instanceof asn1js.Sequence ? parsed.result.valueBlock.value : [];
  const key = fields[1];
  if (parsed.offset !== spki.byteLength || fields.length !== 2 || !(key instanceof asn1js.BitString)) {
    throw new CaError('bad-key', 'not a DER SubjectPublicKeyInfo');
  }
  return new Uint8Array(createHash('sha1').update(key.valueBlock.valueHexView).digest());
}

/** SubjectKeyIdentifier ::= KeyIdentifier (OCTET STRING), RFC 5280 §4.2.1.2. */
export function subjectKeyIdentifierExtension(keyId: Uint8Array): ExtensionSpec {
  const value = new asn1js.OctetString({ valueHex: toArrayBuffer(keyId) }).toBER();
  return { oid: OID.subjectKeyIdentifier, critical: false, value: new Uint8Array(value) };
}

export function authorityKeyIdentifierExtension(keyId: Uint8Array): ExtensionSpec {
  return spec(new x509.AuthorityKeyIdentifierExtension(toHex(keyId)));
}

export function crlDistributionPointsExtension(urls: readonly string[]): ExtensionSpec {
  return spec(new x509.CRLDistributionPointsExtension([...urls]));
}

export function authorityInfoAccessExtension(params: {
  caIssuers?: readonly string[];
  ocsp?: readonly string[];
}): ExtensionSpec {
  return spec(
    new x509.AuthorityInfoAccessExtension({
      ...(params.caIssuers?.length ? { caIssuers: [...params.caIssuers] } : {}),
      ...(params.ocsp?.length ? { ocsp: [...params.ocsp] } : {}),
    }),
  );
}

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): value NULL. */
export function ocspNoCheckExtension(): ExtensionSpec {
  return { oid: OID.ocspNoCheck, critical: false, value: new Uint8Array(new asn1js.Null().toBER()) };
}
