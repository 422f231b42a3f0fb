import { createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { basicConstraintsExtension, extKeyUsageExtension, keyUsageExtension } from '../certs/extensions.js';
import { signWithCa } from '../certs/issue.js';
import { generatePrivateKey } from '../keys/key-pair.js';
import { OID } from '../oids.js';
import { generateSerial } from '../serial.js';
import type { CaIdentity } from './ca-identity.js';
import { nameFromString } from './names.js';

const DAY_MS = 86_400_000;

export interface TlsServerOptions {
  /** DNS names and IP addresses the server answers on (the first is also the CN). */
  hosts: readonly string[];
  validityDays?: number;
  clock?: () => Date;
}

function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return new Uint8Array(ip.split('.').map(Number));
  // IPv6: expand "::" then pack 8 groups.
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/**
 * A TLS server certificate from this CA (serverAuth, digitalSignature + keyEncipherment, SANs for every host), for
 * `serve` with HTTPS when the operator brings no certificate of their own.
 */
export async function issueTlsServerCertificate(
  ca: CaIdentity,
  options: TlsServerOptions,
): Promise<{ certificateDer: Uint8Array; privateKey: KeyObject }> {
  if (options.hosts.length === 0) throw new RangeError('a TLS certificate needs at least one host');
  const privateKey = await generatePrivateKey({ type: 'ec', curve: 'P-256' });
  const now = (options.clock ?? (() => new Date()))();
  const names = new pkijs.GeneralNames({
    names: options.hosts.map((h) =>
      isIP(h)
        ? new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(h) }) })
        : new pkijs.GeneralName({ type: 2, value: h }),
    ),
  });
  const cn = options.hosts[0]!.replace(/[,+="\\<>;#]/g, '');
  const certificateDer = await signWithCa(ca, {
    serial: generateSerial().bytes,
    subject: nameFromString(`CN=${cn}`),
    spki: new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })),
    notBefore: new Date(now.getTime() - 300_000),
    notAfter: new Date(
      Math.min(now.getTime() + (options.validityDays ?? 397) * DAY_MS, ca.notAfter.getTime()),
    ),
    extensions: [
      basicConstraintsExtension(false),
      keyUsageExtension(['digitalSignature', 'keyEncipherment']),
      extKeyUsageExtension([OID.serverAuth]),
      { oid: '2.5.29.17', critical: false, value: new Uint8Array(names.toSchema().toBER()) },
    ],
  });
  return { certificateDer, privateKey };
}
