import type { ChallengeStore } from '../store/index.js';
import type { ChallengeRequest, ChallengeResult, ChallengeVerifier } from './types.js';

/**
 * One-time passwords minted by the admin (`store.mintChallenge`) and consumed atomically in the store: of two
 * concurrent requests with the same password exactly one passes.
 */
export class OtpChallengeVerifier implements ChallengeVerifier {
  readonly #store: ChallengeStore;
  readonly #clock: () => Date;

  constructor(store: ChallengeStore, options: { clock?: () => Date } = {}) {
    this.#store = store;
    this.#clock = options.clock ?? (() => new Date());
  }

  async verify(request: ChallengeRequest): Promise<ChallengeResult> {
    if (request.challengePassword === null || request.challengePassword === '') {
      return { ok: false, reason: 'challenge password missing' };
    }
    const result = await this.#store.consumeChallenge(request.challengePassword, {
      profile: request.profile,
      now: this.#clock(),
    });
    return result === 'ok' ? { ok: true } : { ok: false, reason: `one-time challenge ${result}` };
  }
}
