import { createHash } from 'node:crypto';
import { StoreError } from './errors.js';
import { REVOCATION_REASONS } from './types.js';
import type { RevocationReason } from './types.js';

const SERIAL = /^[1-9a-f][0-9a-f]{0,39}$/;
const HEX_PREFIX = /^[0-9a-f]{1,40}$/;
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const REASON_CODES: ReadonlySet<number> = new Set(Object.values(REVOCATION_REASONS));

/** Serial: lowercase hex of a positive integer of at most 20 octets (RFC 5280 §4.1.2.2), no leading zeros. */
export function assertSerial(serial: string): void {
  if (!SERIAL.test(serial)) throw new StoreError('invalid-input', `invalid serial ${JSON.stringify(serial)}`);
}

export function assertSerialPrefix(prefix: string): void {
  if (!HEX_PREFIX.test(prefix)) throw new StoreError('invalid-input', 'serial prefix must be lowercase hex');
}

/** SANs are stored newline-joined, so they must not contain a newline. */
export function assertSans(sans: readonly string[]): void {
  for (const san of sans) {
    if (san.length === 0 || san.includes('\n')) throw new StoreError('invalid-input', 'invalid SAN entry');
  }
}

/** A revocation reason usable with `revoke` (removeFromCRL, 8, only exists in delta CRLs). */
export function assertRevocationReason(reason: number): asserts reason is RevocationReason {
  if (!REASON_CODES.has(reason) || reason === REVOCATION_REASONS.removeFromCRL) {
    throw new StoreError('invalid-input', `invalid revocation reason ${reason}`);
  }
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1)
    throw new StoreError('invalid-input', 'limit must be a positive integer');
  return Math.min(limit, MAX_LIMIT);
}

/** Outbox claim parameters: a positive integer limit (at most 1000) and a positive lease. */
export function assertClaim(limit: number, leaseMs: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new StoreError('invalid-input', 'claim limit must be an integer in [1, 1000]');
  }
  if (!Number.isFinite(leaseMs) || leaseMs <= 0)
    throw new StoreError('invalid-input', 'leaseMs must be positive');
}

export function clampOffset(offset: number | undefined): number {
  if (offset === undefined) return 0;
  if (!Number.isInteger(offset) || offset < 0) throw new StoreError('invalid-input', 'offset must be >= 0');
  return offset;
}

/** Escape `%`, `_` and `\` for `LIKE ... ESCAPE '\'`. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function sha1Hex(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/** The stored form of a one-time challenge password: hex SHA-256 of its UTF-8 bytes. */
export function hashChallenge(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** JSON-encode an object for a details/payload column; rejects non-serialisable values with a typed error. */
export function toJson(value: Record<string, unknown>): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new StoreError('invalid-input', 'value is not JSON-serialisable', err);
  }
}

/**
 * A new one-time challenge password: hex, so it fits the PrintableString a Windows client puts it in (base64url's
 * `_` does not: CRYPT_E_INVALID_PRINTABLE_STRING).
 */
export function newChallengePassword(random: (n: number) => Uint8Array): string {
  return Buffer.from(random(20)).toString('hex');
}
