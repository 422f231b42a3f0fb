import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';

/** scrypt cost of new hashes: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s), as OWASP recommends at least. */
export const DEFAULT_SCRYPT = { N: 32768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Refuse hashes whose parameters would let a config file exhaust memory or CPU at each login. */
const MAX_N = 1 << 20;

function derive(
  password: string,
  salt: Buffer,
  o: { N: number; r: number; p: number },
  length = KEY_LENGTH,
): Promise<Buffer> {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * A password hash to store in the config or a 0600 file: `scrypt$N$r$p$<salt b64>$<hash b64>`, random salt.
 *
 * @example
 * const stored = await hashPassword('correct horse battery staple');
 * await verifyPassword('correct horse battery staple', stored); // true
 */
export async function hashPassword(
  password: string,
  o: { N: number; r: number; p: number } = DEFAULT_SCRYPT,
) {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, o);
  return `scrypt$${o.N}$${o.r}$${o.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Parses a stored hash; throws with a reason (never echoing the value) when it is not one of ours. */
export function parsePasswordHash(stored: string): ParsedHash {
  const parts = stored.trim().split('$');
  const [kind, n, r, p, salt, key] = parts;
  const int = (s: string | undefined) => (s && /^\d{1,9}$/.test(s) ? Number(s) : NaN);
  const parsed = {
    N: int(n),
    r: int(r),
    p: int(p),
    salt: Buffer.from(salt ?? '', 'base64'),
    key: Buffer.from(key ?? '', 'base64'),
  };
  if (
    parts.length !== 6 ||
    kind !== 'scrypt' ||
    !(parsed.N >= 2 && parsed.N <= MAX_N && (parsed.N & (parsed.N - 1)) === 0) ||
    !(parsed.r >= 1 && parsed.r <= 32) ||
    !(parsed.p >= 1 && parsed.p <= 16) ||
    parsed.salt.length < 8 ||
    parsed.key.length < 16 ||
    parsed.key.length > 64
  ) {
    throw new Error('not a scrypt password hash (scrypt$N$r$p$salt$hash)');
  }
  return parsed;
}

/** Compares in constant time (scrypt of the candidate against the stored key). */
export async function verifyPassword(password: string, stored: string | ParsedHash): Promise<boolean> {
  const h = typeof stored === 'string' ? parsePasswordHash(stored) : stored;
  const key = await derive(password, h.salt, h, h.key.length);
  return timingSafeEqual(key, h.key);
}
