import { randomBytes as nodeRandomBytes } from 'node:crypto';

/** Randomness source; injectable for tests. */
export type RandomBytes = (size: number) => Uint8Array;

export const SERIAL_BYTES = 16;

/** A certificate serial: the INTEGER content bytes and the store's hex form. */
export interface Serial {
  /** 16 bytes, first byte in 0x01..0x7f: a positive, minimal DER INTEGER, never zero. */
  bytes: Uint8Array;
  /** Lowercase hex without leading zeros (the store's serial format). */
  hex: string;
}

/**
 * 128-bit serial from a CSPRNG (RFC 5280 §4.1.2.2, CA/B BR 7.1): top bit cleared so it is positive; the first
 * byte is never 0 so the DER encoding is exactly 16 bytes (the first byte is redrawn, costing < 1 bit).
 */
export function generateSerial(random: RandomBytes = nodeRandomBytes): Serial {
  const bytes = new Uint8Array(random(SERIAL_BYTES));
  if (bytes.length !== SERIAL_BYTES) throw new RangeError('randomBytes returned the wrong size');
  let first = (bytes[0] ?? 0) & 0x7f;
  for (let i = 0; first === 0 && i < 64; i++) first = (random(1)[0] ?? 0) & 0x7f;
  if (first === 0) first = 1; // a broken RNG must still not give a zero or short serial
  bytes[0] = first;
  return { bytes, hex: serialHex(bytes) };
}

/** Store form of serial bytes: lowercase hex, no leading zeros. */
export function serialHex(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex').replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}
