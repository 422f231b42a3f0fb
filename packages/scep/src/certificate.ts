import { createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { asBuffer, definiteLengths, fromSchema, parseDer } from './der.js';

/** A certificate parsed once, with the pieces CMS needs. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly cert: pkijs.Certificate;
  /** DER of the issuer Name. */
  readonly issuer: Uint8Array;
  /** DER of the subject Name. */
  readonly subject: Uint8Array;
  /** Serial number content octets (two's complement, as encoded). */
  readonly serial: Uint8Array;
  readonly publicKey: KeyObject;
}

/**
 * Parsed certificates by byte array, for the certificates of long-lived signers, decrypters and trust lists that
 * every message uses again (a parse costs milliseconds). A hit is checked against a copy of the bytes, so a caller
 * that reuses an array for other contents gets a fresh parse.
 */
const parsedCache = new WeakMap<Uint8Array, { bytes: Buffer; parsed: ParsedCertificate }>();

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const hit = parsedCache.get(der);
  if (hit && hit.bytes.equals(der)) return hit.parsed;
  const parsed = parseCertificateUncached(der);
  parsedCache.set(der, { bytes: Buffer.from(der), parsed });
  return parsed;
}

function parseCertificateUncached(der: Uint8Array): ParsedCertificate {
  const asn = parseDer(der, 'certificate');
  const cert = fromSchema('certificate', () => new pkijs.Certificate({ schema: asn }));
  const spki = asBuffer(cert.subjectPublicKeyInfo.toSchema().toBER());
  return {
    der,
    cert,
    issuer: new Uint8Array(cert.issuer.toSchema().toBER()),
    subject: new Uint8Array(cert.subject.toSchema().toBER()),
    serial: new Uint8Array(cert.serialNumber.valueBlock.valueHexView),
    publicKey: fromSchema('certificate public key', () =>
      createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    ),
  };
}

/** The subject key identifier extension, or SHA-1 of the public key bits (RFC 5280 §4.2.1.2 method 1). */
export function subjectKeyIdentifier(pc: ParsedCertificate): Uint8Array {
  const ext = pc.cert.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (ext?.parsedValue instanceof asn1js.OctetString)
    return new Uint8Array(ext.parsedValue.valueBlock.valueHexView);
  const bits = pc.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return createHash('sha1').update(bits).digest();
}

export function issuerAndSerial(pc: ParsedCertificate): pkijs.IssuerAndSerialNumber {
  return new pkijs.IssuerAndSerialNumber({
    issuer: pc.cert.issuer,
    serialNumber: pc.cert.serialNumber,
  });
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
}

/** Does a CMS signer/recipient identifier name this certificate? */
export function matchesIdentifier(pc: ParsedCertificate, id: unknown): boolean {
  if (id instanceof pkijs.IssuerAndSerialNumber) {
    return (
      // A BER issuer (indefinite lengths, as iOS may send) must still match the certificate's DER.
      bytesEqual(definiteLengths(new Uint8Array(id.issuer.toSchema().toBER())), definiteLengths(pc.issuer)) &&
      bytesEqual(new Uint8Array(id.serialNumber.valueBlock.valueHexView), pc.serial)
    );
  }
  if (id instanceof asn1js.OctetString || (id instanceof asn1js.Constructed && id.idBlock.tagNumber === 0)) {
    const v = id as asn1js.OctetString;
    return bytesEqual(new Uint8Array(v.valueBlock.valueHexView), subjectKeyIdentifier(pc));
  }
  if (id instanceof asn1js.Primitive) {
    return bytesEqual(new Uint8Array(id.valueBlock.valueHexView), subjectKeyIdentifier(pc));
  }
  return false;
}
