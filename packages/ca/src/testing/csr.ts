// Test helpers (not exported from the package): CSRs made with @peculiar/x509 and WebCrypto keys.
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import { INTUNE_SID_URI_PREFIX, OID } from '../oids.js';

export type TestKeyKind = 'rsa1024' | 'rsa1536' | 'rsa2048' | 'p256' | 'p384' | 'p521';

const ALGS: Record<
  TestKeyKind,
  {
    gen: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;
    sign: webcrypto.Algorithm | webcrypto.EcdsaParams;
  }
> = {
  rsa1024: rsa(1024),
  rsa1536: rsa(1536),
  rsa2048: rsa(2048),
  p256: {
    gen: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams,
  },
  p384: {
    gen: { name: 'ECDSA', namedCurve: 'P-384' },
    sign: { name: 'ECDSA', hash: 'SHA-384' } as webcrypto.EcdsaParams,
  },
  p521: {
    gen: { name: 'ECDSA', namedCurve: 'P-521' },
    sign: { name: 'ECDSA', hash: 'SHA-512' } as webcrypto.EcdsaParams,
  },
};

function rsa(bits: number) {
  return {
    gen: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    } as webcrypto.RsaHashedKeyGenParams,
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  };
}

type CreateParams = Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0];

const keyCache = new Map<string, Promise<webcrypto.CryptoKeyPair>>();

/** A key pair of this kind; `slot` gives distinct keys of the same kind (cached per process). */
export function testKey(kind: TestKeyKind, slot = 0): Promise<webcrypto.CryptoKeyPair> {
  const id = `${kind}/${slot}`;
  let p = keyCache.get(id);
  if (!p) {
    p = webcrypto.subtle.generateKey(ALGS[kind].gen, true, [
      'sign',
      'verify',
    ]) as Promise<webcrypto.CryptoKeyPair>;
    keyCache.set(id, p);
  }
  return p;
}

export interface CsrOptions {
  kind?: TestKeyKind;
  slot?: number;
  subject?: string | Uint8Array;
  challenge?: string;
  extensions?: x509.Extension[];
}

export async function makeCsr(options: CsrOptions = {}): Promise<Uint8Array> {
  const kind = options.kind ?? 'p256';
  const keys = await testKey(kind, options.slot ?? 0);
  const subject = options.subject ?? 'CN=device-1';
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: typeof subject === 'string' ? subject : new x509.Name(subject),
      keys: keys as unknown as CreateParams['keys'],
      signingAlgorithm: ALGS[kind].sign,
      extensions: options.extensions ?? [],
      attributes:
        options.challenge === undefined ? [] : [new x509.ChallengePasswordAttribute(options.challenge)],
    },
    webcrypto as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[1],
  );
  return new Uint8Array(csr.rawData);
}

export function san(names: x509.JsonGeneralName[]): x509.Extension {
  return new x509.SubjectAlternativeNameExtension(names, false);
}

export function sidUri(sid: string): x509.JsonGeneralName {
  return { type: 'url', value: `${INTUNE_SID_URI_PREFIX}${sid}` };
}

/** szOID_NTDS_CA_SECURITY_EXT: SEQUENCE { [0] otherName { szOID_NTDS_OBJECTSID, [0] OCTET STRING sid } }. */
export function sidExtension(sid: string): x509.Extension {
  const value = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [
          new asn1js.ObjectIdentifier({ value: '1.3.6.1.4.1.311.25.2.1' }),
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 0 },
            value: [new asn1js.OctetString({ valueHex: new TextEncoder().encode(sid) })],
          }),
        ],
      }),
    ],
  });
  return new x509.Extension(OID.ntdsCaSecurityExt, false, value.toBER());
}

export function keyUsage(flags: number): x509.Extension {
  return new x509.KeyUsagesExtension(flags, true);
}

export function eku(oids: string[]): x509.Extension {
  return new x509.ExtendedKeyUsageExtension(oids, false);
}

export function basicConstraints(ca: boolean): x509.Extension {
  return new x509.BasicConstraintsExtension(ca, undefined, true);
}

/** Corrupt the last byte of the signature. */
export function breakSignature(der: Uint8Array): Uint8Array {
  const out = new Uint8Array(der);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x01;
  return out;
}
