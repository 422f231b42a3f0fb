import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CONTENT_TYPES, parseCaps, parseCertsOnly } from '@scepkit/scep';
import type { Capability } from '@scepkit/scep';
import { CliError } from '../errors.js';
import { fetchBytes } from './http.js';
import type { HttpOptions } from './http.js';

export interface CaCertificates {
  /** Every certificate GetCACert returned (DER). */
  all: Uint8Array[];
  /** The certificate requests are encrypted to (the RA if there is one, else the CA). */
  recipient: Uint8Array;
  /** The issuing CA certificate. */
  ca: Uint8Array;
}

/** SCEP over HTTP (RFC 8894 §4): GetCACaps, GetCACert, PKIOperation by POST or GET. */
export class ScepHttpClient {
  constructor(
    readonly url: URL,
    private readonly http: Pick<HttpOptions, 'ca' | 'timeoutMs'> = {},
  ) {}

  private op(operation: string, message?: string): URL {
    const u = new URL(this.url);
    u.searchParams.set('operation', operation);
    if (message !== undefined) u.searchParams.set('message', message);
    return u;
  }

  async getCaCaps(): Promise<Set<Capability>> {
    const r = await fetchBytes(this.op('GetCACaps', 'scepkit'), this.http);
    if (r.status !== 200) throw new CliError('scep', `GetCACaps answered HTTP ${r.status}`);
    return parseCaps(r.body.toString('utf8')).caps;
  }

  async getCaCert(): Promise<CaCertificates> {
    const r = await fetchBytes(this.op('GetCACert', 'scepkit'), this.http);
    if (r.status !== 200) throw new CliError('scep', `GetCACert answered HTTP ${r.status}`);
    const ct = r.contentType.split(';')[0]?.trim();
    const all =
      ct === CONTENT_TYPES.caRaCert ? parseCertsOnly(r.body).certificates : [new Uint8Array(r.body)];
    if (all.length === 0) throw new CliError('scep', 'GetCACert returned no certificate');
    return { all, ...pickRoles(all) };
  }

  async pkiOperation(der: Uint8Array, usePost: boolean): Promise<Uint8Array> {
    const r = usePost
      ? await fetchBytes(this.op('PKIOperation'), { ...this.http, method: 'POST', body: der })
      : await fetchBytes(this.op('PKIOperation', Buffer.from(der).toString('base64')), this.http);
    if (r.status !== 200) {
      throw new CliError(
        'scep',
        `PKIOperation answered HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 200)}`,
      );
    }
    return new Uint8Array(r.body);
  }
}

/**
 * The RA (not a CA, keyEncipherment or no KeyUsage) is the recipient when present, as macOS and jscep choose it;
 * the issuing CA is the CA certificate that issued the RA, else a non-self-signed CA, else the first.
 */
export function pickRoles(all: Uint8Array[]): { recipient: Uint8Array; ca: Uint8Array } {
  const parsed = all.map((der) => {
    const x = new x509.X509Certificate(der);
    const bc = x.getExtension(x509.BasicConstraintsExtension);
    const ku = x.getExtension(x509.KeyUsagesExtension);
    return {
      der,
      x,
      isCa: bc?.ca === true,
      encipher: !ku || (ku.usages & x509.KeyUsageFlags.keyEncipherment) !== 0,
    };
  });
  const cas = parsed.filter((p) => p.isCa);
  const ra = parsed.find((p) => !p.isCa && p.encipher);
  const issuing =
    (ra && cas.find((c) => c.x.subject === ra.x.issuer)) ??
    cas.find((c) => c.x.issuer !== c.x.subject) ??
    cas[0] ??
    parsed[0]!;
  return { recipient: (ra ?? issuing).der, ca: issuing.der };
}

/** SHA-256 (or SHA-1, by length) fingerprint check against any certificate GetCACert returned. */
export function checkFingerprint(all: Uint8Array[], fingerprint: string): void {
  const want = fingerprint.replace(/[:\s]/g, '').toLowerCase();
  const algo = want.length === 40 ? 'sha1' : 'sha256';
  const got = all.map((c) => createHash(algo).update(c).digest('hex'));
  if (!got.includes(want)) {
    throw new CliError(
      'fingerprint',
      `no CA certificate has the ${algo.toUpperCase()} fingerprint ${fingerprint}`,
    );
  }
}
