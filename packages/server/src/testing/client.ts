import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  buildPkiRequest,
  CONTENT_TYPES,
  decodeCertRep,
  keyObjectDecrypter,
  keyObjectSigner,
  parseCertsOnly,
  readCsr,
  selfSignedCertificate,
} from '@scepkit/scep';
import type { CertRepResult, RequestOptions } from '@scepkit/scep';
import { buildCsr } from './der.js';

/** How a client sends PKIOperation. */
export type Transport =
  | { method: 'POST'; contentType?: string }
  | { method: 'GET'; encoding: 'percent' | 'base64url' | 'unescaped-plus' };

let sharedKey: KeyObject | undefined;
/** One client key for the whole process (RSA key generation is slow); tests needing another pass their own. */
export function clientKey(): KeyObject {
  sharedKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return sharedKey;
}

export function encodeGetMessage(
  der: Uint8Array,
  encoding: 'percent' | 'base64url' | 'unescaped-plus',
): string {
  const b64 = Buffer.from(der).toString('base64');
  switch (encoding) {
    case 'percent':
      return encodeURIComponent(b64);
    case 'base64url':
      return Buffer.from(der).toString('base64url');
    case 'unescaped-plus':
      // macOS: '+' left as is, '/' and '=' escaped.
      return b64.replace(/\//g, '%2F').replace(/=/g, '%3D');
  }
}

export async function sendPkiOperation(
  base: string,
  path: string,
  der: Uint8Array,
  t: Transport = { method: 'POST', contentType: CONTENT_TYPES.pkiMessage },
): Promise<Response> {
  if (t.method === 'POST') {
    return fetch(`${base}${path}?operation=PKIOperation`, {
      method: 'POST',
      body: der,
      ...(t.contentType ? { headers: { 'content-type': t.contentType } } : {}),
    });
  }
  return fetch(`${base}${path}?operation=PKIOperation&message=${encodeGetMessage(der, t.encoding)}`);
}

export interface EnrollOutcome {
  http: Response;
  rep: CertRepResult;
  csr: Uint8Array;
  transactionId: string;
}

/** A whole PKCSReq: CSR with `challenge`, self-signed signer, encrypted to `recipient`, decoded reply. */
export async function enroll(o: {
  base: string;
  path: string;
  recipient: Uint8Array;
  trustedSigners: readonly Uint8Array[];
  challenge?: string;
  cn?: string;
  key?: KeyObject;
  transport?: Transport;
  request?: Partial<RequestOptions>;
}): Promise<EnrollOutcome> {
  const key = o.key ?? clientKey();
  const csr = buildCsr({ cn: o.cn ?? 'device-1', key, ...(o.challenge ? { challenge: o.challenge } : {}) });
  const signerCert = selfSignedCertificate({ subject: readCsr(csr).subject, privateKey: key });
  const req = await buildPkiRequest({
    body: { messageType: 'PKCSReq', csr },
    signer: keyObjectSigner(signerCert, key),
    recipients: [o.recipient],
    ...o.request,
  });
  const http = await sendPkiOperation(o.base, o.path, req.der, o.transport);
  if (http.status !== 200) throw new Error(`HTTP ${http.status}: ${await http.text()}`);
  const rep = await decodeCertRep(new Uint8Array(await http.arrayBuffer()), {
    decrypter: keyObjectDecrypter(signerCert, key),
    expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
    trustedSigners: o.trustedSigners,
  });
  return { http, rep, csr, transactionId: req.transactionId };
}

/** The certificates of a GetCACert answer, whatever its content type. */
export function caCertificates(contentType: string, body: Uint8Array): Uint8Array[] {
  return contentType === CONTENT_TYPES.caCert ? [body] : parseCertsOnly(body).certificates;
}
