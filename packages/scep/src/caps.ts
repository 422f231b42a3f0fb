import type { ContentCipher, DigestName } from './types.js';

/** GetCACaps keywords (RFC 8894 §3.5.2). */
export const CAPABILITIES = [
  'AES',
  'DES3',
  'GetNextCACert',
  'POSTPKIOperation',
  'Renewal',
  'SHA-1',
  'SHA-256',
  'SHA-384',
  'SHA-512',
  'SCEPStandard',
  'Update',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

const BY_LOWER = new Map<string, Capability>(CAPABILITIES.map((c) => [c.toLowerCase(), c]));

/** Parses a GetCACaps answer: one keyword per line, case-insensitive; unknown keywords are kept apart. */
export function parseCaps(text: string): { caps: Set<Capability>; unknown: string[] } {
  const caps = new Set<Capability>();
  const unknown: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const word = line.trim();
    if (!word) continue;
    const c = BY_LOWER.get(word.toLowerCase());
    if (c) caps.add(c);
    else unknown.push(word);
  }
  // RFC 8894 §3.5.2: SCEPStandard implies AES, POSTPKIOperation and SHA-256.
  if (caps.has('SCEPStandard')) for (const c of ['AES', 'POSTPKIOperation', 'SHA-256'] as const) caps.add(c);
  return { caps, unknown };
}

/** Formats capabilities as the GetCACaps body (text/plain, one per line, in the order given). */
export function formatCaps(caps: Iterable<Capability>): string {
  return [...new Set(caps)].join('\n') + '\n';
}

/** Client side: the strongest digest both sides support (SHA-1 if the CA lists none, as old CAs do). */
export function chooseDigest(caps: ReadonlySet<Capability>): DigestName {
  if (caps.has('SHA-512')) return 'sha512';
  if (caps.has('SHA-384')) return 'sha384';
  if (caps.has('SHA-256')) return 'sha256';
  return 'sha1';
}

/** Client side: the strongest content cipher the CA lists (DES3 when it lists neither, never single DES). */
export function chooseCipher(caps: ReadonlySet<Capability>): ContentCipher {
  if (caps.has('AES')) return 'aes-256-cbc';
  return 'des-ede3-cbc';
}
