import type { ChallengeResult, ChallengeVerifier } from './types.js';

/** Accepts every request (no challenge). For closed networks and tests only. */
export class NoneChallengeVerifier implements ChallengeVerifier {
  verify(): Promise<ChallengeResult> {
    return Promise.resolve({ ok: true });
  }
}
