import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reencodeBer } from './ber.js';

// SEQUENCE { SEQUENCE { INTEGER 5 }, OCTET STRING 'abcde' }
const DER = Buffer.from('300c300302010504056162636465', 'hex');

describe('ber re-encoder', () => {
  it('ok/keep: everything kept is byte-identical', () => {
    assert.deepEqual(
      reencodeBer(DER, () => 'keep'),
      DER,
    );
  });
  it('ok/indefinite-outer: only the chosen elements change form, inner DER is copied', () => {
    const ber = reencodeBer(DER, (path) => (path.length === 0 ? 'indefinite' : 'keep'));
    assert.equal(ber.toString('hex'), '3080' + '3003020105' + '04056162636465' + '0000');
  });
  it('ok/chunked-octet-string: constructed, indefinite, in segments', () => {
    const ber = reencodeBer(DER, (path) => (path.join() === '1' ? 'chunked' : 'keep'), 2);
    assert.equal(
      ber.toString('hex'),
      '3014' + '3003020105' + '2480' + '04026162' + '04026364' + '040165' + '0000',
    );
  });
  it('fail/not-der: indefinite input and trailing bytes are refused', () => {
    assert.throws(() => reencodeBer(Buffer.from('30800000', 'hex'), () => 'keep'), RangeError);
    assert.throws(() => reencodeBer(Buffer.concat([DER, Buffer.from([0])]), () => 'keep'), RangeError);
  });
});
