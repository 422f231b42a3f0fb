import type { ChallengeVerifier, EnrollMessageType } from '../challenge/types.js';
import type { IssuanceProfileOptions } from '../policy/profile.js';

/** One enrollment request, as decoded by the SCEP layer. */
export interface EnrollRequest {
  messageType: EnrollMessageType;
  transactionId: string;
  /** PKCS#10 DER: required for PKCSReq and RenewalReq (CertPoll carries none). */
  csrDer?: Uint8Array;
  /** The pkiMessage signer certificate DER: self-signed for PKCSReq, the certificate being renewed for RenewalReq. */
  signerCertDer?: Uint8Array;
  /** Profile / SCEP endpoint name. */
  profile: string;
  remoteAddress?: string;
  /**
   * Called with each certificate as soon as it is signed, before it is stored and before the post-issuance hook
   * (Intune's success notification), so the caller can build its reply meanwhile. The certificate is not issued
   * yet: only the one `enroll` resolves with may leave the server, and only after it resolves.
   */
  onSigned?: (certificateDer: Uint8Array, chain: readonly Uint8Array[]) => void;
}

export type EnrollResult =
  | {
      status: 'SUCCESS';
      certificateDer: Uint8Array;
      /** The CA certificate and its issuers up to the root. */
      chain: readonly Uint8Array[];
      serial: string;
    }
  | { status: 'PENDING' };

/** A profile as configured: its challenge verifier and its issuance policy options. */
export interface ProfileConfig {
  verifier: ChallengeVerifier;
  policy?: IssuanceProfileOptions;
}

/** Optional logger; defaults to a no-op. Never receives secrets. */
export interface AuthorityLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}
