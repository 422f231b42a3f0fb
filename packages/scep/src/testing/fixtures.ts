import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file under packages/scep/testdata (tests run from dist/). */
export function testdataPath(rel: string): string {
  return fileURLToPath(new URL(`../../testdata/${rel}`, import.meta.url));
}

export function readVector(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(testdataPath(rel)));
}

export function readKey(rel: string): KeyObject {
  return createPrivateKey(readFileSync(testdataPath(rel)));
}

/** DER of the first certificate in a PEM file. */
export function readCertPem(rel: string): Uint8Array {
  const pem = readFileSync(testdataPath(rel), 'utf8');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m?.[1]) throw new Error(`no certificate in ${rel}`);
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}
