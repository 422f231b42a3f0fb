// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { CaError } from '../errors.js';

/** Name DER from an RFC 4514-style string (`CN=scepkit CA, O=Example`), via @peculiar/x509. */
export function nameFromString(dn: string): Uint8Array {
  try {
    return new Uint8Array(new x509.Name(dn).toArrayBuffer());
  } catch (err) {
    throw new CaError('bad-name', `invalid distinguished name`, err);
  }
}

/** RFC 4514 string of a Name DER (for display and the store's `subject` column). */
export function nameToString(der: Uint8Array): string {
  return new x509.Name(der).toString();
}
