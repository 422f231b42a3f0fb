import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM key pair made by openssl for tests. */
export interface TestCert {
  keyPem: string;
  certPem: string;
}

function openssl(args: string[], dir: string): TestCert {
  execFileSync('openssl', [...args, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], {
    stdio: 'ignore',
  });
  return { keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'), certPem: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

/** Self-signed TLS certificate for https://127.0.0.1 (EC P-256, quick to make). */
export function makeTlsCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'intune-tls-'));
  try {
    return openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'].concat([
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]),
      dir,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const clientCerts = new Map<string, TestCert>();

/** RSA client certificate as registered on an Entra app (for client_assertion); memoized per CN. */
export function makeClientCert(cn = 'scepkit-test-app'): TestCert {
  const known = clientCerts.get(cn);
  if (known) return known;
  const cert = makeRsaCert(cn);
  clientCerts.set(cn, cert);
  return cert;
}

function makeRsaCert(cn: string): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'intune-client-'));
  try {
    return openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
