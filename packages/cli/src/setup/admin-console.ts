import { X509Certificate } from 'node:crypto';
import type { AdminConsoleOptions, AdminKeyCertificate } from '@scepkit/server';
import { parsePasswordHash } from '@scepkit/server';
import { CliError } from '../errors.js';
import { dataDirLayout } from './data-dir.js';
import type { Runtime } from './runtime.js';
import { readSecretFile } from './secrets.js';

/** Where the admin password hash is read from and written to. */
export function adminPasswordFile(rt: Pick<Runtime, 'config'>): string {
  return rt.config.admin?.passwordHashFile ?? dataDirLayout(rt.config.dataDir).adminPassword;
}

/** The admin console's options from the `admin` config section, or undefined when there is none (not served). */
export async function adminConsoleOptions(rt: Runtime): Promise<AdminConsoleOptions | undefined> {
  const admin = rt.config.admin;
  if (!admin) return undefined;
  let passwordHash = admin.passwordHash;
  if (!passwordHash) {
    const file = adminPasswordFile(rt);
    try {
      passwordHash = await readSecretFile(file, 'admin password hash');
    } catch (err) {
      throw new CliError(
        'config',
        `the admin console is configured but has no password: run \`scepkit admin-password\` (${(err as Error).message})`,
      );
    }
  }
  try {
    parsePasswordHash(passwordHash);
  } catch (err) {
    throw new CliError('config', `admin password hash: ${(err as Error).message}`);
  }
  const certificates: AdminKeyCertificate[] = rt.ca.chain.map((der, i) => ({
    role: i === 0 ? 'CA' : 'issuer',
    der,
  }));
  for (const der of rt.pki.raCertificates ?? []) certificates.push({ role: 'RA', der });
  if (rt.ocspCertificate) certificates.push({ role: 'OCSP', der: rt.ocspCertificate });
  const next = rt.pki.nextCaChain?.[0];
  if (next) certificates.push({ role: 'next CA', der: next });
  return {
    passwordHash,
    actor: admin.name,
    sessionTtlMinutes: admin.sessionTtlMinutes,
    store: rt.store,
    authority: rt.authority,
    chain: rt.ca.chain,
    certificates: certificates.filter((c) => isCertificate(c.der)),
    intuneProfiles: [...rt.endpoints].filter(([, e]) => e.challenge.type === 'intune').map(([name]) => name),
  };
}

function isCertificate(der: Uint8Array): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}
