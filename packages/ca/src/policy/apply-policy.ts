// @peculiar/x509 needs the Reflect metadata polyfill (tsyringe) loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { toArrayBuffer, toHex } from '../bytes.js';
import { PolicyError } from '../errors.js';
import { OID } from '../oids.js';
import {
  authorityInfoAccessExtension,
  crlDistributionPointsExtension,
  extKeyUsageExtension,
  keyUsageExtension,
  keyUsageNames,
  type ExtensionSpec,
  type KeyUsageName,
} from '../certs/extensions.js';
import { toPkijsExtension } from '../certs/certificate-builder.js';
import type { CaIdentity } from '../init/ca-identity.js';
import type { ParsedCsr } from './csr.js';
import type { IssuanceProfile } from './profile.js';
import { encodeSan, parseSan, sanToStoreString, type SanEntry } from './san.js';

const DAY_MS = 86_400_000;
const FORBIDDEN_KU: readonly KeyUsageName[] = ['keyCertSign', 'cRLSign'];

export interface PolicyInput {
  csr: ParsedCsr;
  profile: IssuanceProfile;
  ca: CaIdentity;
  now: Date;
  /** The challenge verifier said Intune validated this request (enables SID, see `IssuanceProfile.sid`). */
  validatedByIntune: boolean;
  /** A shorter validity asked for by the caller (capped by the profile). */
  validityDays?: number;
}

/** What to sign (SKI/AKI are added at signing) and what to store. */
export interface IssuanceDecision {
  subject: Uint8Array;
  /** RFC 4514 form of the subject, for the store and audit. */
  subjectText: string;
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  extensions: ExtensionSpec[];
  /** SANs in the store's string form. */
  sans: string[];
}

/**
 * Apply a profile to a verified CSR. Pure: no I/O, no clock (pass `now`).
 * @throws PolicyError badAlg (key type/size), badRequest (CA:true, forbidden KU/EKU/SAN/SID, empty identity)
 */
export function applyPolicy(input: PolicyInput): IssuanceDecision {
  const { csr, profile } = input;
  checkKey(csr, profile);
  const sidAllowed = profile.sid === 'intune-validated' && input.validatedByIntune;
  const seen = new Set<string>();
  let sanEntries: SanEntry[] | null = null;
  let keyUsage: KeyUsageName[] | null = null;
  let eku: string[] | null = null;
  let sidExtension: ExtensionSpec | null = null;

  for (const ext of csr.extensions) {
    if (seen.has(ext.oid)) throw new PolicyError('badRequest', `duplicate extension ${ext.oid} in the CSR`);
    seen.add(ext.oid);
    switch (ext.oid) {
      case OID.basicConstraints:
        if (readBasicConstraintsCa(ext)) throw new PolicyError('badRequest', 'the CSR requests CA:true');
        break;
      case OID.subjectAltName:
        if (profile.honour.subjectAltName) sanEntries = filterSan(parseSan(ext.value), profile, sidAllowed);
        break;
      case OID.keyUsage:
        if (profile.honour.keyUsage) keyUsage = checkKeyUsage(ext);
        break;
      case OID.extKeyUsage:
        if (profile.honour.extKeyUsage) eku = filterEku(ext, profile);
        break;
      case OID.ntdsCaSecurityExt:
        if (!sidAllowed)
          throw new PolicyError('badRequest', 'the CSR requests a SID extension it may not have');
        sidExtension = { ...ext, critical: false };
        break;
      default:
        break; // not honoured: dropped
    }
  }

  const subjectText = csr.subjectText;
  const emptySubject = subjectText === '';
  if (emptySubject && (sanEntries === null || sanEntries.length === 0)) {
    throw new PolicyError('badRequest', 'the CSR has neither a subject nor subject alternative names');
  }

  const extensions: ExtensionSpec[] = [];
  const ku = keyUsage ?? [
    ...(csr.publicKey.type === 'ec' ? profile.defaultKeyUsage.ec : profile.defaultKeyUsage.rsa),
  ];
  if (ku.length > 0) extensions.push(keyUsageExtension(ku));
  const ekus = eku && eku.length > 0 ? eku : [...profile.defaultEku];
  if (ekus.length > 0) extensions.push(extKeyUsageExtension(ekus));
  if (sanEntries && sanEntries.length > 0) {
    // RFC 5280 §4.2.1.6: critical when the subject is empty.
    extensions.push({ oid: OID.subjectAltName, critical: emptySubject, value: encodeSan(sanEntries) });
  }
  if (sidExtension) extensions.push(sidExtension);
  extensions.push(...locationExtensions(profile));

  const nowMs = input.now.getTime();
  const days = Math.min(input.validityDays ?? profile.validityDays, profile.maxValidityDays);
  const notAfterMs = Math.min(nowMs + days * DAY_MS, input.ca.notAfter.getTime());
  const notBeforeMs = Math.max(nowMs - profile.backdateSeconds * 1000, input.ca.notBefore.getTime());
  return {
    subject: csr.subject,
    subjectText,
    spki: csr.spki,
    notBefore: new Date(notBeforeMs),
    notAfter: new Date(notAfterMs),
    extensions,
    sans: (sanEntries ?? []).map(sanToStoreString).filter((s): s is string => s !== null),
  };
}

// CDP and AIA depend on the profile only: encode them once per profile object.
const locationCache = new WeakMap<IssuanceProfile, readonly ExtensionSpec[]>();

function locationExtensions(profile: IssuanceProfile): readonly ExtensionSpec[] {
  let exts = locationCache.get(profile);
  if (!exts) {
    const list: ExtensionSpec[] = [];
    if (profile.crlDistributionPoints.length > 0) {
      list.push(crlDistributionPointsExtension(profile.crlDistributionPoints));
    }
    if (profile.caIssuersUrls.length > 0 || profile.ocspUrls.length > 0) {
      list.push(authorityInfoAccessExtension({ caIssuers: profile.caIssuersUrls, ocsp: profile.ocspUrls }));
    }
    exts = list;
    locationCache.set(profile, exts);
  }
  return exts;
}

function checkKey(csr: ParsedCsr, profile: IssuanceProfile): void {
  const key = csr.publicKey;
  if (key.type === 'rsa') {
    if (key.bits < profile.keys.rsaMinBits || !profile.keys.rsaAllowedBits.includes(key.bits)) {
      throw new PolicyError('badAlg', `RSA ${key.bits}-bit keys are not allowed`);
    }
  } else if (key.type === 'ec') {
    if (!(profile.keys.ecCurves as readonly string[]).includes(key.curve)) {
      throw new PolicyError('badAlg', `EC curve ${key.curve} is not allowed`);
    }
  } else {
    throw new PolicyError('badAlg', `${key.name} keys are not allowed`);
  }
}

function extensionDer(ext: ExtensionSpec): ArrayBuffer {
  return toPkijsExtension(ext).toSchema().toBER();
}

function readBasicConstraintsCa(ext: ExtensionSpec): boolean {
  try {
    return pkijs.BasicConstraints.fromBER(toArrayBuffer(ext.value)).cA === true;
  } catch (err) {
    throw new PolicyError('badRequest', 'malformed basicConstraints in the CSR', err);
  }
}

// Devices of a profile request the same few KU/EKU values: decode each value once (a schema parse each time
// cost a fifth of a millisecond). Only values that decoded are kept, at most DECODED_LIMIT of each.
const kuSeen = new Map<string, readonly KeyUsageName[]>();
const ekuSeen = new Map<string, readonly string[]>();
const DECODED_LIMIT = 256;

function decoded<T>(seen: Map<string, T>, ext: ExtensionSpec, decode: () => T): T {
  const key = toHex(ext.value);
  let value = seen.get(key);
  if (value === undefined) {
    value = decode();
    if (seen.size < DECODED_LIMIT) seen.set(key, value);
  }
  return value;
}

function checkKeyUsage(ext: ExtensionSpec): KeyUsageName[] {
  let names: readonly KeyUsageName[];
  try {
    names = decoded(kuSeen, ext, () => keyUsageNames(new x509.KeyUsagesExtension(extensionDer(ext)).usages));
  } catch (err) {
    throw new PolicyError('badRequest', 'malformed keyUsage in the CSR', err);
  }
  const forbidden = names.filter((n) => FORBIDDEN_KU.includes(n));
  if (forbidden.length > 0)
    throw new PolicyError('badRequest', `the CSR requests key usage ${forbidden.join(',')}`);
  return [...names];
}

function filterEku(ext: ExtensionSpec, profile: IssuanceProfile): string[] {
  let oids: readonly string[];
  try {
    oids = decoded(ekuSeen, ext, () =>
      [...new x509.ExtendedKeyUsageExtension(extensionDer(ext)).usages].map(String),
    );
  } catch (err) {
    throw new PolicyError('badRequest', 'malformed extendedKeyUsage in the CSR', err);
  }
  return oids.filter((oid) => {
    if (profile.allowedEku.includes(oid)) return true;
    if (profile.onDisallowed === 'refuse') throw new PolicyError('badRequest', `EKU ${oid} is not allowed`);
    return false;
  });
}

function filterSan(entries: SanEntry[], profile: IssuanceProfile, sidAllowed: boolean): SanEntry[] {
  return entries.filter((entry) => {
    if (entry.type === 'sid') {
      if (sidAllowed) return true;
      throw new PolicyError('badRequest', 'the CSR requests a SID URI it may not have');
    }
    if (entry.type !== 'other' && profile.allowedSanTypes.includes(entry.type)) return true;
    if (profile.onDisallowed === 'refuse')
      throw new PolicyError('badRequest', `SAN type ${entry.type} is not allowed`);
    return false;
  });
}
