import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { keyObjectDecrypter, keyObjectSigner, selfSignedCertificate } from '@scepkit/scep';
import type { ScepPkiOptions } from '../pki.js';
import { cnName } from './der.js';

export interface TestIdentity {
  key: KeyObject;
  cert: Uint8Array;
}

const cache = new Map<string, TestIdentity>();

/** An RSA-2048 key with a self-signed certificate, generated once per process per name (keeps tests quick). */
export function identity(cn: string): TestIdentity {
  let id = cache.get(cn);
  if (!id) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    id = { key: privateKey, cert: selfSignedCertificate({ subject: cnName(cn), privateKey }) };
    cache.set(cn, id);
  }
  return id;
}

/** Single-CA material: the CA signs and decrypts. */
export function singleCaPki(ca: TestIdentity = identity('Test CA')): ScepPkiOptions {
  return {
    caChain: [ca.cert],
    signer: keyObjectSigner(ca.cert, ca.key),
    decrypters: [keyObjectDecrypter(ca.cert, ca.key)],
  };
}
