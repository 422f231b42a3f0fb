import { join } from 'node:path';

/** Where scepkit keeps its files inside the data directory. */
export interface DataDirLayout {
  root: string;
  config: string;
  caCert: string;
  caKey: string;
  /** The CA's issuers up to the root (subordinate CA), PEM, nearest first. */
  caChain: string;
  raCert: string;
  raKey: string;
  ocspCert: string;
  ocspKey: string;
  tlsCert: string;
  tlsKey: string;
  /** Generated key passphrase, 0600, when none is given through SCEPKIT_CA_PASSPHRASE or a file. */
  passphrase: string;
  /** Generated static challenge password, 0600. */
  staticChallenge: string;
  /** scrypt hash of the admin console password, 0600 (`scepkit admin-password`). */
  adminPassword: string;
  sqlite: string;
}

export function dataDirLayout(root: string): DataDirLayout {
  return {
    root,
    config: join(root, 'scepkit.json'),
    caCert: join(root, 'ca', 'ca.cert.pem'),
    caKey: join(root, 'ca', 'ca.key.pem'),
    caChain: join(root, 'ca', 'ca.chain.pem'),
    raCert: join(root, 'ca', 'ra.cert.pem'),
    raKey: join(root, 'ca', 'ra.key.pem'),
    ocspCert: join(root, 'ca', 'ocsp.cert.pem'),
    ocspKey: join(root, 'ca', 'ocsp.key.pem'),
    tlsCert: join(root, 'tls', 'tls.cert.pem'),
    tlsKey: join(root, 'tls', 'tls.key.pem'),
    passphrase: join(root, 'secrets', 'key-passphrase'),
    staticChallenge: join(root, 'secrets', 'static-challenge'),
    adminPassword: join(root, 'secrets', 'admin-password'),
    sqlite: join(root, 'scepkit.db'),
  };
}
