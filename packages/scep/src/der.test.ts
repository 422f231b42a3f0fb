import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as asn1js from 'asn1js';
import { buildCertsOnly, parseCertsOnly } from './degenerate.js';
import { definiteLengths, encodedElement, hasDerLengths, oidElement } from './der.js';
import { selfSignedCertificate } from './self-signed.js';

/** A Name: SEQUENCE OF SET OF SEQUENCE { OID, string }, with one value long enough for a long-form length. */
function name(indefinite: boolean): Uint8Array {
  const rdn = (oid: string, value: asn1js.AsnType) =>
    new asn1js.Set({
      lenBlock: { isIndefiniteForm: indefinite },
      value: [
        new asn1js.Sequence({
          lenBlock: { isIndefiniteForm: indefinite },
          value: [new asn1js.ObjectIdentifier({ value: oid }), value],
        }),
      ],
    });
  return new Uint8Array(
    new asn1js.Sequence({
      lenBlock: { isIndefiniteForm: indefinite },
      value: [
        rdn('2.5.4.6', new asn1js.PrintableString({ value: 'FR' })),
        rdn('2.5.4.10', new asn1js.Utf8String({ value: 'scepkit \u00e9' })),
        rdn('2.5.4.3', new asn1js.Utf8String({ value: 'x'.repeat(300) })),
      ],
    }).toBER(),
  );
}

test('definiteLengths: BER with indefinite lengths becomes the DER of the same value', () => {
  const der = name(false);
  const ber = name(true);
  assert.notDeepEqual(ber, der);
  assert.ok(ber.includes(0x80));
  assert.deepEqual(definiteLengths(ber), der);
  assert.equal(definiteLengths(der), der, 'DER is returned as it is');
});

test('definiteLengths: a 0x80 byte that is not an indefinite length changes nothing', () => {
  const der = new Uint8Array(
    new asn1js.Sequence({
      value: [new asn1js.OctetString({ valueHex: new Uint8Array(0x80 + 5).fill(0x80) })],
    }).toBER(),
  );
  assert.equal(definiteLengths(der), der);
});

test('encodedElement: pre-encoded children are written byte for byte, at any length', () => {
  const parts = [
    name(false),
    new Uint8Array(new asn1js.OctetString({ valueHex: new Uint8Array(70_000) }).toBER()),
  ];
  const built = new Uint8Array(
    new asn1js.Sequence({
      value: [new asn1js.Integer({ value: 1 }), ...parts.map((p) => encodedElement(p))],
    }).toBER(),
  );
  const reference = new Uint8Array(
    new asn1js.Sequence({
      value: [new asn1js.Integer({ value: 1 }), ...parts.map((p) => asn1js.fromBER(p).result)],
    }).toBER(),
  );
  assert.deepEqual(built, reference);
  // Later changes to the caller's bytes do not show.
  const bytes = name(false);
  const el = encodedElement(bytes);
  bytes[0] = 0;
  assert.equal(new Uint8Array(el.toBER())[0], 0x30);
});

test('buildCertsOnly: certificates come back byte for byte', () => {
  const cert = selfSignedCertificate({
    subject: name(false),
    privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  });
  const parsed = parseCertsOnly(buildCertsOnly([cert, cert]));
  assert.deepEqual(parsed.certificates, [cert, cert]);
  assert.deepEqual(parsed.crls, []);
  assert.throws(() => buildCertsOnly([Uint8Array.of(0x31, 0x00)]), /not a SEQUENCE/);
});

test('hasDerLengths: definite minimal lengths only, one whole element', () => {
  const der = name(false);
  assert.equal(hasDerLengths(der), true, 'DER with a long-form length (300-byte value)');
  assert.equal(hasDerLengths(name(true)), false, 'indefinite lengths');
  // SEQUENCE { NULL } with its length in long form although under 128, or with a leading zero octet.
  assert.equal(hasDerLengths(Uint8Array.from([0x30, 0x02, 0x05, 0x00])), true);
  assert.equal(hasDerLengths(Uint8Array.from([0x30, 0x81, 0x02, 0x05, 0x00])), false);
  assert.equal(hasDerLengths(Uint8Array.from([0x30, 0x02, 0x05, 0x81, 0x00])), false, 'inner long form');
  const long = Buffer.from(der);
  const at = long.indexOf(Buffer.from([0x0c, 0x82, 0x01, 0x2c])); // the 300-byte UTF8String
  assert.ok(at > 0);
  assert.equal(hasDerLengths(der.subarray(0, der.length - 1)), false, 'truncated');
  assert.equal(hasDerLengths(Buffer.concat([der, Buffer.from([0])])), false, 'trailing byte');
  assert.equal(hasDerLengths(new Uint8Array(0)), false, 'empty');
  const padded = Buffer.concat([Buffer.from([0x30, 0x84, 0, 0, 0, 2]), Buffer.from([0x05, 0x00])]);
  assert.equal(hasDerLengths(padded), false, 'leading zero length octets');
});

test('oidElement: the bytes asn1js encodes for the identifier, every time', () => {
  for (const oid of [
    '1.2.840.113549.1.7.2',
    '2.5.29.37',
    '1.3.6.1.4.1.311.20.2.3',
    '2.16.840.1.101.3.4.2.1',
    '2.999.1234567',
  ]) {
    const expected = Buffer.from(new asn1js.ObjectIdentifier({ value: oid }).toBER());
    for (let i = 0; i < 2; i++) {
      const inSequence = Buffer.from(new asn1js.Sequence({ value: [oidElement(oid)] }).toBER());
      assert.deepEqual(inSequence.subarray(2), expected);
      assert.equal(asn1js.fromBER(inSequence.subarray(2)).result.valueBlock.toString(), oid);
    }
  }
  assert.throws(() => oidElement('not an oid'), /cannot encode/);
});
