import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSign,
  createVerify,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { ChallengeValidationError } from './errors.js';
import { isObject } from './jwt.js';
import type { ExpectedCsr } from './model.js';

/** What a challenge binds (emulator-specific; Intune's real layout is not public, docs/intune-api.md §3). */
export interface ChallengeClaims {
  tenantId: string;
  deviceId: string;
  userId?: string;
  profileId: string;
  /** Certificate request id: one per device, profile and check-in. */
  requestId: string;
  /** Seconds since the epoch. */
  createdAt: number;
  expiresAt: number;
  expected: ExpectedCsr;
}

export interface ChallengeKeys {
  /** AES-256-GCM key. */
  encryptionKey: Buffer;
  /** RSA private key signing the claims (its public half verifies). */
  signingKey: KeyObject;
}

/** Blob layout: magic(4) | version(1) | key id(8) | iv(12) | tag(16) | AES-256-GCM(claimsLen(4) | claims | sigLen(2) | sig). */
const MAGIC = Buffer.from('SKCH', 'ascii');
const VERSION = 1;
const HEADER = 4 + 1 + 8 + 12 + 16;
/** Random filler so the blob is several kB like Intune's (an iOS request carried ~6.5 kB, §3). */
export const DEFAULT_CHALLENGE_PADDING = 3072;

const keyTag = (key: Buffer): Buffer => createHash('sha256').update(key).digest().subarray(0, 8);

/** Encrypts and signs `claims` into an opaque standard-base64 challenge (PrintableString-safe). */
export function mintChallenge(
  claims: ChallengeClaims,
  keys: ChallengeKeys,
  paddingBytes = DEFAULT_CHALLENGE_PADDING,
): string {
  const body = Buffer.from(
    JSON.stringify({ v: VERSION, ...claims, pad: randomBytes(paddingBytes).toString('base64') }),
    'utf8',
  );
  const signature = createSign('sha256').update(body).sign(keys.signingKey);
  const plain = Buffer.concat([u32(body.length), body, u16(signature.length), signature]);
  const iv = randomBytes(12);
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION]), keyTag(keys.encryptionKey), iv]);
  const cipher = createCipheriv('aes-256-gcm', keys.encryptionKey, iv);
  cipher.setAAD(header);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([header, cipher.getAuthTag(), ct]).toString('base64');
}

/**
 * Decodes, decrypts and verifies a challenge. Throws `ChallengeValidationError` with Intune's code:
 * ChallengeDecodingError (not base64), ChallengeDeserializationError (bad layout or claims),
 * ChallengeDecryptionError (other key or tampered ciphertext), SignatureValidationFailed,
 * ChallengeInvalidTimestamp. Expiry is checked by the caller.
 */
export function openChallenge(
  challenge: string,
  keys: { encryptionKey: Buffer; verifyKey: KeyObject },
): ChallengeClaims {
  if (challenge.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(challenge)) {
    throw new ChallengeValidationError('ChallengeDecodingError', 'Failed to decode the challenge (base64).');
  }
  const blob = Buffer.from(challenge, 'base64');
  if (blob.length < HEADER + 6 || !blob.subarray(0, 4).equals(MAGIC) || blob[4] !== VERSION) {
    throw new ChallengeValidationError(
      'ChallengeDeserializationError',
      'Failed to deserialize the challenge.',
    );
  }
  const header = blob.subarray(0, 25);
  const iv = blob.subarray(13, 25);
  let plain: Buffer;
  try {
    if (!blob.subarray(5, 13).equals(keyTag(keys.encryptionKey))) throw new Error('unknown key id');
    const decipher = createDecipheriv('aes-256-gcm', keys.encryptionKey, iv);
    decipher.setAAD(header);
    decipher.setAuthTag(blob.subarray(25, HEADER));
    plain = Buffer.concat([decipher.update(blob.subarray(HEADER)), decipher.final()]);
  } catch (err) {
    throw new ChallengeValidationError('ChallengeDecryptionError', 'Failed to decrypt the challenge.', {
      cause: err,
    });
  }
  const bodyLength = plain.length >= 4 ? plain.readUInt32BE(0) : Infinity;
  const body = plain.subarray(4, 4 + bodyLength);
  const sigLength = plain.length >= 6 + bodyLength ? plain.readUInt16BE(4 + bodyLength) : Infinity;
  const signature = plain.subarray(6 + bodyLength, 6 + bodyLength + sigLength);
  if (body.length !== bodyLength || signature.length !== sigLength) {
    throw new ChallengeValidationError(
      'ChallengeDeserializationError',
      'Failed to deserialize the challenge.',
    );
  }
  if (!createVerify('sha256').update(body).verify(keys.verifyKey, signature)) {
    throw new ChallengeValidationError('SignatureValidationFailed', 'Challenge signature validation failed.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ChallengeValidationError(
      'ChallengeDeserializationError',
      'Failed to deserialize the challenge.',
      {
        cause: err,
      },
    );
  }
  const claims = toClaims(parsed);
  if (
    !Number.isInteger(claims.createdAt) ||
    !Number.isInteger(claims.expiresAt) ||
    claims.expiresAt <= claims.createdAt
  ) {
    throw new ChallengeValidationError('ChallengeInvalidTimestamp', 'Challenge timestamps are invalid.');
  }
  return claims;
}

function toClaims(value: unknown): ChallengeClaims {
  const fail = (): never => {
    throw new ChallengeValidationError(
      'ChallengeDeserializationError',
      'Failed to deserialize the challenge.',
    );
  };
  if (!isObject(value) || value['v'] !== VERSION) return fail();
  const str = (k: string): string => (typeof value[k] === 'string' ? (value[k] as string) : fail());
  const expected = value['expected'];
  if (!isObject(expected) || typeof expected['subject'] !== 'string') return fail();
  const claims: ChallengeClaims = {
    tenantId: str('tenantId'),
    deviceId: str('deviceId'),
    profileId: str('profileId'),
    requestId: str('requestId'),
    createdAt: Number(value['createdAt']),
    expiresAt: Number(value['expiresAt']),
    expected: expected as unknown as ExpectedCsr,
  };
  if (typeof value['userId'] === 'string') claims.userId = value['userId'];
  return claims;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
