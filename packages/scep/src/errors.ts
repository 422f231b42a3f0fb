/** Why a SCEP message could not be decoded, verified or built. */
export type ScepErrorCode =
  | 'malformed' // not DER/BER, wrong tags, truncated, trailing bytes
  | 'limitExceeded' // nesting depth, size, or element count over a limit
  | 'wrongContentType' // e.g. SignedData expected, EnvelopedData found
  | 'missingAttribute' // a required SCEP authenticated attribute is absent
  | 'badAttribute' // an attribute has the wrong type or value
  | 'unsupportedAlgorithm' // digest, signature, cipher or key transport we do not support
  | 'badSignature' // signature or messageDigest does not verify
  | 'noSignerCertificate' // the signer's certificate is not in the message
  | 'noRecipient' // no RecipientInfo for any of our certificates
  | 'decryptFailed' // content could not be decrypted (wrong key, bad padding)
  | 'badArgument'; // caller error when building a message

/** A typed SCEP codec error. `code` is stable; `message` is for logs, never for clients verbatim. */
export class ScepError extends Error {
  override readonly name = 'ScepError';
  constructor(
    readonly code: ScepErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
