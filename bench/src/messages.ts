import 'reflect-metadata';
import { KeyObject, X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  buildPkiRequest,
  keyObjectSigner,
  parseCertsOnly,
  readCsr,
  selfSignedCertificate,
} from '@scepkit/scep';

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** One RSA-2048 key of the pool, in both the WebCrypto (CSR) and KeyObject (SCEP) forms. */
export interface PoolKey {
  keys: webcrypto.CryptoKeyPair;
  privateKey: KeyObject;
}

/** A pre-built PKCSReq and what is needed to check its answer. */
export interface PreparedRequest {
  der: Uint8Array;
  transactionId: string;
  senderNonce: Uint8Array;
  signerCertificate: Uint8Array;
  privateKey: KeyObject;
}

/** Generates `size` RSA-2048 keys (WebCrypto runs them on the libuv thread pool). */
export async function keyPool(size: number): Promise<PoolKey[]> {
  return Promise.all(
    Array.from({ length: size }, async () => {
      const keys = (await webcrypto.subtle.generateKey(
        { ...ALG, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
        true,
        ['sign', 'verify'],
      )) as webcrypto.CryptoKeyPair;
      return { keys, privateKey: KeyObject.from(keys.privateKey) };
    }),
  );
}

/** The GetCACert answer: all certificates, and the one requests are encrypted to. */
export interface CaCerts {
  all: Uint8Array[];
  recipient: Uint8Array;
}

/**
 * RFC 8894 §4.2.1: a single DER certificate (x-x509-ca-cert, micromdm) or a degenerate PKCS#7 of CA + RA
 * (x-x509-ca-ra-cert, scepkit). Requests are encrypted to the RA when there is one (the non-CA certificate).
 */
export function caCertsFrom(contentType: string, body: Uint8Array): CaCerts {
  const all = contentType.includes('x-x509-ca-ra-cert') ? parseCertsOnly(body).certificates : [body];
  const recipient = all.find((c) => !new X509Certificate(c).ca) ?? all[0];
  if (!recipient) throw new Error('GetCACert returned no certificate');
  return { all, recipient };
}

/** Makes the CSR of message `index`, signed by `key` (e.g. a device's CSR with its Intune challenge). */
export type CsrFactory = (index: number, key: PoolKey) => Promise<Uint8Array>;

/** The bench's own CSR: unique subject `CN=bench-<tag>-<index>-<random>`, challengePassword `challenge`. */
export function benchCsr(challenge: string, tag: string): CsrFactory {
  return async (index, key) => {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=bench-${tag}-${index}-${randomBytes(4).toString('hex')},O=scepkit-bench`,
      keys: key.keys,
      signingAlgorithm: ALG,
      attributes: [new x509.ChallengePasswordAttribute(challenge)],
    });
    return new Uint8Array(csr.rawData);
  };
}

/**
 * Builds `count` distinct PKCSReq messages: keys are reused from the pool, but each message has its own
 * CSR (by default with a unique subject), self-signed signer certificate, random transactionID and nonce, so
 * no answer can come from a cache.
 */
export async function buildRequests(o: {
  count: number;
  pool: readonly PoolKey[];
  recipient: Uint8Array;
  tag: string;
  /** The challengePassword of the default CSRs (`benchCsr`); ignored when `csr` is given. */
  challenge?: string;
  csr?: CsrFactory;
}): Promise<PreparedRequest[]> {
  const makeCsr = o.csr ?? benchCsr(o.challenge ?? '', o.tag);
  const out: PreparedRequest[] = [];
  const batch = 16;
  for (let start = 0; start < o.count; start += batch) {
    const n = Math.min(batch, o.count - start);
    const csrs = await Promise.all(
      Array.from({ length: n }, async (_, j) => {
        const key = o.pool[(start + j) % o.pool.length]!;
        return { key, csr: await makeCsr(start + j, key) };
      }),
    );
    for (const { key, csr } of csrs) {
      const signerCertificate = selfSignedCertificate({
        subject: readCsr(csr).subject,
        privateKey: key.privateKey,
      });
      const req = await buildPkiRequest({
        body: { messageType: 'PKCSReq', csr },
        signer: keyObjectSigner(signerCertificate, key.privateKey),
        recipients: [o.recipient],
        transactionId: randomBytes(16).toString('hex'),
      });
      out.push({ ...req, signerCertificate, privateKey: key.privateKey });
    }
  }
  return out;
}
