import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as asn1js from 'asn1js';
// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { nameFromString, nameToString, plainNameToString } from './names.js';

const TYPES = [
  '2.5.4.3',
  '2.5.4.10',
  '2.5.4.11',
  '2.5.4.6',
  '0.9.2342.19200300.100.1.25',
  '1.2.840.113549.1.9.1',
  '2.5.4.4',
  '2.5.4.5', // serialNumber: no short name in @peculiar/x509
  '0.9.2342.19200300.100.1.1',
];
const CHARS = [
  'a',
  'Z',
  '7',
  '-',
  '.',
  '_',
  '@',
  '/',
  ':',
  '=',
  ' ',
  ',',
  '+',
  '"',
  '\\',
  '<',
  '>',
  ';',
  '#',
  '\n',
  'é',
  '€',
];
const STRINGS = [
  (v: string) => new asn1js.Utf8String({ value: v }),
  (v: string) => new asn1js.PrintableString({ value: v }),
  (v: string) => new asn1js.IA5String({ value: v }),
  (v: string) => new asn1js.BmpString({ value: v }),
  (v: string) => new asn1js.TeletexString({ value: v }),
];

/** A small deterministic generator (xorshift32), so a failure names its case. */
function rng(seed: number) {
  let x = seed || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

test('names/fast-RFC-4514-string-equals-@peculiar/x509 on 3,000 generated names', () => {
  const pick = rng(20261127);
  let fast = 0;
  for (let i = 0; i < 3000; i++) {
    const rdns = Array.from({ length: pick(5) }, () => {
      const atvs = Array.from({ length: 1 + (pick(6) === 0 ? 1 : 0) }, () => {
        // Mostly plain values (the common case), sometimes any of the special characters.
        const special = pick(3) === 0;
        const len = 1 + pick(12);
        let v = '';
        for (let k = 0; k < len; k++) v += CHARS[special ? pick(CHARS.length) : pick(9)];
        const string = STRINGS[pick(6) < 4 ? pick(3) : pick(STRINGS.length)]!;
        return new asn1js.Sequence({
          value: [new asn1js.ObjectIdentifier({ value: TYPES[pick(TYPES.length)]! }), string(v)],
        });
      });
      return new asn1js.Set({ value: atvs });
    });
    const der = new Uint8Array(new asn1js.Sequence({ value: rdns }).toBER());
    const expected = new x509.Name(der).toString();
    assert.equal(nameToString(der), expected, Buffer.from(der).toString('hex'));
    if (plainNameToString(der) !== undefined) fast++;
  }
  assert.ok(fast > 1000 && fast < 3000, `both paths exercised (fast: ${fast})`);
});

test('names/typical-device-subjects-take-the-fast-path', () => {
  for (const dn of [
    'CN=device-1, O=Org',
    'CN=4f1c2a9e-0d2b-4b8e-9a5e-3f1a2b3c4d5e',
    'CN=user@example.com, OU=Devices, O=Example Corp, C=US',
    '',
  ]) {
    const der = nameFromString(dn);
    assert.equal(plainNameToString(der), dn);
    assert.equal(new x509.Name(der).toString(), dn);
  }
  assert.equal(plainNameToString(nameFromString('CN=a\\, b')), undefined, 'escaping: @peculiar/x509 decides');
  assert.equal(nameToString(nameFromString('CN=a\\, b')), 'CN=a\\, b');
});
