import { createHash, timingSafeEqual } from 'node:crypto';
import type { ChallengeRequest, ChallengeResult, ChallengeVerifier } from './types.js';

export interface StaticChallengeOptions {
  /** The shared challenge password. */
  password: string;
}

/** One shared password, compared in constant time (both sides hashed first, so lengths do not leak). */
export class StaticChallengeVerifier implements ChallengeVerifier {
  readonly #digest: Buffer;

  constructor(options: StaticChallengeOptions) {
    if (options.password.length === 0)
      throw new RangeError('the static challenge password must not be empty');
    this.#digest = sha256(options.password);
  }

  verify(request: ChallengeRequest): Promise<ChallengeResult> {
    const given = request.challengePassword;
    if (given === null) return Promise.resolve({ ok: false, reason: 'challenge password missing' });
    const ok = timingSafeEqual(sha256(given), this.#digest);
    return Promise.resolve(ok ? { ok: true } : { ok: false, reason: 'challenge password mismatch' });
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
