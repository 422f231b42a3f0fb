/** SCEP request message types the authority handles (RFC 8894 §3.3). `CertPoll` is GetCertInitial. */
export type EnrollMessageType = 'PKCSReq' | 'RenewalReq' | 'CertPoll';

/** What a challenge verifier sees of a request. */
export interface ChallengeRequest {
  transactionId: string;
  /** Profile / SCEP endpoint name. */
  profile: string;
  messageType: EnrollMessageType;
  remoteAddress?: string;
  /** The PKCS#10 DER as received (Intune validates it whole). */
  csrDer: Uint8Array;
  /** The CSR's challengePassword (secret: never log it), or null. */
  challengePassword: string | null;
  /** Subject of the CSR, RFC 4514 form. */
  subject: string;
}

export type ChallengeResult =
  | {
      ok: true;
      /** Intune validated this request: the profile may then allow a SID in the certificate. */
      validatedByIntune?: boolean;
      /** Device identifier to record with the certificate (e.g. Intune's device id), if known. */
      deviceId?: string;
    }
  | { ok: false; reason: string };

/** What `onIssued` is told about the certificate. */
export interface IssuedCertificateInfo {
  /** Lowercase hex. */
  serial: string;
  der: Uint8Array;
  /** Lowercase hex SHA-1 of the DER. */
  thumbprint: string;
  notAfter: Date;
  /** Issuer DN (RFC 4514). */
  issuer: string;
}

/**
 * Decides whether a PKCSReq may be enrolled. Implementations: `NoneChallengeVerifier`, `StaticChallengeVerifier`,
 * `OtpChallengeVerifier`; Intune's lives elsewhere and implements the hooks.
 *
 * @example
 * const verifier = new StaticChallengeVerifier({ password: process.env.SECRET! });
 */
export interface ChallengeVerifier {
  verify(request: ChallengeRequest): Promise<ChallengeResult>;
  /**
   * Called after the certificate is stored, before it is returned. If it throws, the certificate is revoked and
   * not delivered; the client may retry the same transaction later.
   */
  onIssued?(request: ChallengeRequest, certificate: IssuedCertificateInfo): Promise<void>;
  /** Called when a request that passed `verify` is then refused or fails (hResult: Win32/HRESULT code). */
  onFailed?(request: ChallengeRequest, hResult: number, description: string): Promise<void>;
}
