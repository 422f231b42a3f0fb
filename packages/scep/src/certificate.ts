import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CmsIdentifier } from './asn-read.js';
import { asBuffer, definiteLengths, encodedElement, fromSchema, parseDer } from './der.js';
import { ScepError } from './errors.js';
import { publicKeyFromSpki } from './public-key.js';

/** A certificate parsed once, with the pieces CMS needs. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** The full pkijs structure, parsed on first use only (schema matching costs milliseconds). */
  readonly cert: pkijs.Certificate;
  /** DER of the issuer Name. */
  readonly issuer: Uint8Array;
  /** DER of the subject Name. */
  readonly subject: Uint8Array;
  /** Serial number content octets (two's complement, as encoded). */
  readonly serial: Uint8Array;
  /** The serial number's whole INTEGER element, as encoded (for IssuerAndSerialNumber). */
  readonly serialElement: Uint8Array;
  readonly publicKey: KeyObject;
}

/**
 * Parsed certificates by byte array, for the certificates of long-lived signers, decrypters and trust lists that
 * every message uses again (a parse costs milliseconds). A hit is checked against a copy of the bytes, so a caller
 * that reuses an array for other contents gets a fresh parse.
 */
const parsedCache = new WeakMap<Uint8Array, { bytes: Buffer; parsed: ParsedCertificate }>();

export function parseCertificate(der: Uint8Array, tree?: asn1js.AsnType): ParsedCertificate {
  // A certificate inside a message is parsed for that message only: a WeakMap entry would keep the parse alive
  // through young-generation collections long after the request (see `rememberCsrTree` in der.ts).
  if (tree) return parseCertificateUncached(der, tree);
  const hit = parsedCache.get(der);
  if (hit && hit.bytes.equals(der)) return hit.parsed;
  const parsed = parseCertificateUncached(der);
  parsedCache.set(der, { bytes: Buffer.from(der), parsed });
  return parsed;
}

/**
 * Reads the TBSCertificate fields by position (RFC 5280 §4.1) from the tree `parseDer` already built, instead of
 * matching pkijs's whole Certificate schema: every PKCSReq carries a new self-signed certificate, so this runs once
 * per request. `tree`, when given, is that certificate as asn1js already parsed it (inside a message), not parsed
 * again.
 */
function parseCertificateUncached(der: Uint8Array, tree?: asn1js.AsnType): ParsedCertificate {
  const asn = tree ?? parseDer(der, 'certificate');
  const outer = asn instanceof asn1js.Sequence ? asn.valueBlock.value : [];
  const tbs = outer[0] instanceof asn1js.Sequence ? outer[0].valueBlock.value : [];
  const first = tbs[0];
  const off = first && first.idBlock.tagClass === 3 && first.idBlock.tagNumber === 0 ? 1 : 0;
  const [serial, , issuer, validity, subject, spki] = tbs.slice(off);
  if (
    outer.length !== 3 ||
    !(serial instanceof asn1js.Integer) ||
    !(issuer instanceof asn1js.Sequence) ||
    !(validity instanceof asn1js.Sequence) ||
    !(subject instanceof asn1js.Sequence) ||
    !(spki instanceof asn1js.Sequence)
  ) {
    throw new ScepError('malformed', 'certificate: not an X.509 certificate');
  }
  // Copies of the few elements used later, not the tree: a cached certificate kept its whole parse (~25 kB of
  // asn1js objects) alive as long as its bytes, e.g. every signer certificate of a client's pre-built requests.
  const serialElement = new Uint8Array(serial.valueBeforeDecodeView);
  return new LazyCertificate(
    der,
    new Uint8Array(issuer.valueBeforeDecodeView),
    new Uint8Array(subject.valueBeforeDecodeView),
    // The contents are the element's last bytes.
    serialElement.subarray(serialElement.length - serial.valueBlock.valueHexView.length),
    serialElement,
    fromSchema('certificate public key', () => publicKeyFromSpki(spki.valueBeforeDecodeView, spki)),
  );
}

/**
 * A class, not an object literal with a `get cert()`: V8 gives each such literal its own hidden class in old
 * space, whose getter closure then kept the whole parse alive through every young-generation collection
 * (promoted, then freed only by a full collection): a GC cost per request larger than the parse (BENCHMARKS.md,
 * item 18). A getter on the prototype has no such cost.
 */
class LazyCertificate implements ParsedCertificate {
  #cert: pkijs.Certificate | undefined;

  constructor(
    readonly der: Uint8Array,
    readonly issuer: Uint8Array,
    readonly subject: Uint8Array,
    readonly serial: Uint8Array,
    readonly serialElement: Uint8Array,
    readonly publicKey: KeyObject,
  ) {}

  get cert(): pkijs.Certificate {
    this.#cert ??= fromSchema(
      'certificate',
      () => new pkijs.Certificate({ schema: parseDer(this.der, 'certificate') }),
    );
    return this.#cert;
  }
}

/** The subject key identifier extension, or SHA-1 of the public key bits (RFC 5280 §4.2.1.2 method 1). */
export function subjectKeyIdentifier(pc: ParsedCertificate): Uint8Array {
  const ext = pc.cert.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (ext?.parsedValue instanceof asn1js.OctetString)
    return new Uint8Array(ext.parsedValue.valueBlock.valueHexView);
  const bits = pc.cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return createHash('sha1').update(bits).digest();
}

/** IssuerAndSerialNumber (RFC 5652 §10.2.4) of a certificate, from the elements already parsed. */
export function issuerAndSerialSchema(pc: ParsedCertificate): asn1js.Sequence {
  return new asn1js.Sequence({ value: [encodedElement(pc.issuer), encodedElement(pc.serialElement)] });
}

export function issuerAndSerial(pc: ParsedCertificate): pkijs.IssuerAndSerialNumber {
  return new pkijs.IssuerAndSerialNumber({
    issuer: fromSchema(
      'issuer Name',
      () => new pkijs.RelativeDistinguishedNames({ schema: parseDer(pc.issuer, 'issuer Name') }),
    ),
    serialNumber: new asn1js.Integer({ valueHex: pc.serial }),
  });
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
}

/** Does a CMS signer/recipient identifier name this certificate? */
export function matchesIdentifier(pc: ParsedCertificate, id: CmsIdentifier): boolean {
  if ('ski' in id) return bytesEqual(id.ski, subjectKeyIdentifier(pc));
  // A BER issuer (indefinite lengths, as iOS may send) must still match the certificate's DER.
  return (
    bytesEqual(id.serial, pc.serial) && bytesEqual(definiteLengths(id.issuer), definiteLengths(pc.issuer))
  );
}
