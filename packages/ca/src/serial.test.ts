import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSerial, serialHex } from './serial.js';

test('ok/serial-128-bit-positive-hex', () => {
  for (let i = 0; i < 200; i++) {
    const s = generateSerial();
    assert.equal(s.bytes.length, 16);
    assert.ok((s.bytes[0] ?? 0) >= 1 && (s.bytes[0] ?? 0) <= 0x7f, 'first byte 0x01..0x7f');
    assert.match(s.hex, /^[1-9a-f][0-9a-f]{30,31}$/);
    assert.equal(BigInt(`0x${s.hex}`), BigInt(`0x${Buffer.from(s.bytes).toString('hex')}`));
  }
});

test('ok/serial-top-bit-cleared-and-zero-first-byte-redrawn', () => {
  const draws = [new Uint8Array(16).fill(0xff), new Uint8Array([0x80]), new Uint8Array([0x05])];
  const s1 = generateSerial((n) => draws.shift() ?? new Uint8Array(n));
  assert.equal(s1.hex, '7f' + 'ff'.repeat(15));
  const zero = new Uint8Array(16);
  zero[15] = 1;
  const queue = [zero, new Uint8Array([0x80]), new Uint8Array([0x05])];
  const s2 = generateSerial((n) => queue.shift() ?? new Uint8Array(n));
  assert.equal(s2.bytes[0], 0x05);
  assert.equal(s2.hex, '5' + '00'.repeat(14) + '01');
});

test('ok/serialHex-strips-leading-zeros', () => {
  assert.equal(serialHex(new Uint8Array([0, 0, 0x0a, 0xbc])), 'abc');
  assert.equal(serialHex(new Uint8Array([0])), '0');
});
