import { generateKeyPair as nodeGenerateKeyPair, type KeyObject } from 'node:crypto';
import { KeyError } from '../errors.js';

/** A key to generate: RSA 2048/3072/4096 or ECDSA P-256/P-384. */
export type KeySpec = { type: 'rsa'; bits: 2048 | 3072 | 4096 } | { type: 'ec'; curve: 'P-256' | 'P-384' };

export const DEFAULT_CA_KEY_SPEC: KeySpec = { type: 'rsa', bits: 3072 };
export const DEFAULT_RA_KEY_SPEC: KeySpec = { type: 'rsa', bits: 2048 };

/** Generate a private key (the public half is derived from it). RSA keys are always RSA for SCEP RA use. */
export function generatePrivateKey(spec: KeySpec): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject) => {
      if (err) reject(new KeyError('unsupported-key', 'key generation failed', err));
      else resolve(priv);
    };
    if (spec.type === 'rsa') {
      if (![2048, 3072, 4096].includes(spec.bits)) {
        reject(new KeyError('unsupported-key', `unsupported RSA size ${spec.bits}`));
        return;
      }
      nodeGenerateKeyPair('rsa', { modulusLength: spec.bits, publicExponent: 0x10001 }, done);
    } else if (spec.type === 'ec' && (spec.curve === 'P-256' || spec.curve === 'P-384')) {
      nodeGenerateKeyPair('ec', { namedCurve: spec.curve }, done);
    } else {
      reject(new KeyError('unsupported-key', 'unsupported key spec'));
    }
  });
}
