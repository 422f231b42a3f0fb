import type { CaIdentity } from '../init/ca-identity.js';
import { buildCertificate, type ExtensionSpec } from './certificate-builder.js';
import {
  authorityKeyIdentifierExtension,
  keyIdentifier,
  subjectKeyIdentifierExtension,
} from './extensions.js';

export interface IssueParams {
  serial: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Extensions other than SKI/AKI, which are always added here. */
  extensions: readonly ExtensionSpec[];
}

// The CA's AKI extension is the same in every certificate it signs: build it once per CA.
const akiCache = new WeakMap<CaIdentity, ExtensionSpec>();

function caAki(ca: CaIdentity): ExtensionSpec {
  let aki = akiCache.get(ca);
  if (!aki) {
    aki = authorityKeyIdentifierExtension(ca.keyId);
    akiCache.set(ca, aki);
  }
  return aki;
}

/** Sign a certificate with the CA: issuer = CA subject bytes, SKI from the subject key, AKI = CA key id. */
export function signWithCa(ca: CaIdentity, params: IssueParams): Promise<Uint8Array> {
  return buildCertificate(
    {
      serial: params.serial,
      issuer: ca.subjectDer,
      subject: params.subject,
      spki: params.spki,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      extensions: [
        ...params.extensions,
        subjectKeyIdentifierExtension(keyIdentifier(params.spki)),
        caAki(ca),
      ],
    },
    ca.signer,
  );
}
