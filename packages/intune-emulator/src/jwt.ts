import { constants, createSign, createVerify, type KeyObject } from 'node:crypto';

/** JWS algorithms the emulator signs or accepts (RFC 7518 §3.3, §3.5). */
export type JwtAlgorithm = 'RS256' | 'PS256';

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function padding(alg: JwtAlgorithm): { padding: number; saltLength?: number } {
  return alg === 'PS256'
    ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    : { padding: constants.RSA_PKCS1_PADDING };
}

/** Signs a compact JWS. */
export function signJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject,
  alg: JwtAlgorithm = 'RS256',
): string {
  const input = `${b64url(JSON.stringify({ ...header, alg, typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('sha256')
    .update(input)
    .sign({ key, ...padding(alg) });
  return `${input}.${b64url(signature)}`;
}

/** Splits and parses a compact JWS without checking it; `undefined` if it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, c, s] = parts as [string, string, string];
  try {
    const header: unknown = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    const claims: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (!isObject(header) || !isObject(claims)) return undefined;
    return { header, claims, signingInput: `${h}.${c}`, signature: Buffer.from(s, 'base64url') };
  } catch {
    return undefined;
  }
}

/** Checks the signature of a decoded JWS with `alg` (never trusting the header's choice blindly). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject, alg: JwtAlgorithm): boolean {
  try {
    return createVerify('sha256')
      .update(jwt.signingInput)
      .verify({ key, ...padding(alg) }, jwt.signature);
  } catch {
    return false;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
