import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toArrayBuffer } from '../bytes.js';
import { KeyError } from '../errors.js';
import { keyIdentifier } from '../certs/extensions.js';
import { OID } from '../oids.js';
import type { Signer } from '../signer/signer.js';

/**
 * The CA as the issuance code needs it: its signer and certificate, parsed ONCE (subject bytes, key identifier,
 * validity, OCSP CertID hashes), and its chain up to the root.
 *
 * @example
 * const ca = CaIdentity.create(signer, caCertDer, [rootDer]);
 */
export class CaIdentity {
  readonly signer: Signer;
  readonly certificateDer: Uint8Array;
  /** The CA certificate first, then its issuers up to the root (a root CA: just itself). */
  readonly chain: readonly Uint8Array[];
  /** Subject Name DER of the CA certificate (the issuer of everything it signs). */
  readonly subjectDer: Uint8Array;
  /** The CA's key identifier (its SKI extension, else computed), used as AKI in issued certificates. */
  readonly keyId: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** RFC 6960 CertID hashes of this CA (issuerNameHash, issuerKeyHash) for sha1 and sha256. */
  readonly certIdHashes: { sha1: { name: Buffer; key: Buffer }; sha256: { name: Buffer; key: Buffer } };
  /** The parsed certificate (read-only use). */
  readonly certificate: pkijs.Certificate;

  private constructor(signer: Signer, certificateDer: Uint8Array, parents: readonly Uint8Array[]) {
    this.signer = signer;
    this.certificateDer = certificateDer;
    const cert = pkijs.Certificate.fromBER(toArrayBuffer(certificateDer));
    this.certificate = cert;
    const spki = new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER());
    if (!Buffer.from(spki).equals(Buffer.from(signer.publicKeySpki))) {
      throw new KeyError('key-mismatch', 'the CA key does not match the CA certificate');
    }
    this.chain = [certificateDer, ...parents];
    this.subjectDer = new Uint8Array(cert.subject.toSchema().toBER());
    const ski = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
    const skiValue = ski ? asn1js.fromBER(ski.extnValue.valueBlock.valueHexView).result : null;
    this.keyId =
      skiValue instanceof asn1js.OctetString
        ? new Uint8Array(skiValue.valueBlock.valueHexView)
        : keyIdentifier(spki);
    this.notBefore = cert.notBefore.value;
    this.notAfter = cert.notAfter.value;
    const keyBits = cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
    const hash = (alg: string, data: Uint8Array) => createHash(alg).update(data).digest();
    this.certIdHashes = {
      sha1: { name: hash('sha1', this.subjectDer), key: hash('sha1', keyBits) },
      sha256: { name: hash('sha256', this.subjectDer), key: hash('sha256', keyBits) },
    };
  }

  /**
   * @param parents the CA's issuers, nearest first, up to the root (empty for a root CA)
   * @throws KeyError('key-mismatch') when the signer's public key is not the certificate's
   */
  static create(signer: Signer, certificateDer: Uint8Array, parents: readonly Uint8Array[] = []): CaIdentity {
    return new CaIdentity(signer, certificateDer, parents);
  }
}
