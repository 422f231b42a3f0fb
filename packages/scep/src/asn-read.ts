/*
 * Reading CMS structures by position from the tree asn1js already built (RFC 5652 field order), instead of matching
 * pkijs's schemas: a schema match walks every element again and costs milliseconds per message. Each accessor
 * checks the ASN.1 type it expects and throws a typed `ScepError` naming the field otherwise.
 */
import * as asn1js from 'asn1js';
import { octetStringBytes } from './der.js';
import { ScepError } from './errors.js';

export type Asn = asn1js.AsnType;

/** The elements of a SEQUENCE (or SET with `set`), checked to be that type. */
export function children(el: Asn | undefined, what: string, set = false): Asn[] {
  // asn1js models a universal 16/17 tag as SEQUENCE/SET even with the primitive bit set: refuse that form too.
  const ok = (set ? el instanceof asn1js.Set : el instanceof asn1js.Sequence) && el!.idBlock.isConstructed;
  if (!ok) throw new ScepError('malformed', `${what}: expected a ${set ? 'SET' : 'SEQUENCE'}`);
  return (el as asn1js.Sequence).valueBlock.value;
}

/** Is `el` a context-specific [n] element (constructed when `constructed` is given as true)? */
export function isContext(el: Asn | undefined, n: number, constructed?: boolean): boolean {
  return (
    el !== undefined &&
    el.idBlock.tagClass === 3 &&
    el.idBlock.tagNumber === n &&
    (constructed === undefined || el.idBlock.isConstructed === constructed)
  );
}

/** The dotted form of an OBJECT IDENTIFIER. */
export function oidOf(el: Asn | undefined, what: string): string {
  if (!(el instanceof asn1js.ObjectIdentifier)) {
    throw new ScepError('malformed', `${what}: expected an OBJECT IDENTIFIER`);
  }
  return el.valueBlock.toString();
}

/** The bytes an element was decoded from (a view, not a copy). */
export function rawBytes(el: Asn): Uint8Array {
  return el.valueBeforeDecodeView;
}

/** The contents of an OCTET STRING, primitive or constructed (BER chunks joined). */
export function octets(el: Asn | undefined, what: string): Uint8Array {
  if (!(el instanceof asn1js.OctetString))
    throw new ScepError('malformed', `${what}: expected an OCTET STRING`);
  return octetStringBytes(el);
}

/**
 * The contents of an `[n] IMPLICIT OCTET STRING`: asn1js gives a primitive with the bytes, or (BER) a constructed
 * element whose children are OCTET STRING chunks.
 */
export function implicitOctets(el: Asn, what: string): Uint8Array {
  if (!el.idBlock.isConstructed) return (el as asn1js.Primitive).valueBlock.valueHexView;
  const parts = (el as asn1js.Constructed).valueBlock.value.map((c) => octets(c, what));
  return Buffer.concat(parts);
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
export interface AlgorithmId {
  oid: string;
  params: Asn | undefined;
}

export function algorithmId(el: Asn | undefined, what: string): AlgorithmId {
  const parts = children(el, what);
  if (parts.length < 1 || parts.length > 2)
    throw new ScepError('malformed', `${what}: bad AlgorithmIdentifier`);
  return { oid: oidOf(parts[0], what), params: parts[1] };
}

/** A CMS signer or recipient identifier: IssuerAndSerialNumber or `[0] IMPLICIT SubjectKeyIdentifier`. */
export type CmsIdentifier = { issuer: Uint8Array; serial: Uint8Array } | { ski: Uint8Array };

export function cmsIdentifier(el: Asn | undefined, what: string): CmsIdentifier {
  if (el instanceof asn1js.Sequence && el.idBlock.isConstructed) {
    const [issuer, serial, extra] = el.valueBlock.value;
    if (
      !(issuer instanceof asn1js.Sequence) ||
      !issuer.idBlock.isConstructed ||
      !(serial instanceof asn1js.Integer) ||
      extra !== undefined
    ) {
      throw new ScepError('malformed', `${what}: bad IssuerAndSerialNumber`);
    }
    return { issuer: rawBytes(issuer), serial: serial.valueBlock.valueHexView };
  }
  if (el !== undefined && isContext(el, 0)) return { ski: implicitOctets(el, what) };
  throw new ScepError('malformed', `${what}: expected IssuerAndSerialNumber or a subject key identifier`);
}

/** The ContentInfo's content type and its `[0] EXPLICIT` content. */
export function contentInfo(root: Asn, what: string): { contentType: string; content: Asn } {
  const parts = children(root, `${what} ContentInfo`);
  const [type, wrapped] = parts;
  const contentType = oidOf(type, `${what} ContentInfo`);
  if (parts.length !== 2 || !isContext(wrapped, 0, true)) {
    throw new ScepError('malformed', `${what} ContentInfo: content missing`);
  }
  const inner = (wrapped as asn1js.Constructed).valueBlock.value;
  if (inner.length !== 1) throw new ScepError('malformed', `${what} ContentInfo: content missing`);
  return { contentType, content: inner[0]! };
}
