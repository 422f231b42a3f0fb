import { readFile } from 'node:fs/promises';
import {
  Authority,
  CaIdentity,
  IntuneChallengeVerifier,
  CrlPublisher,
  KeyObjectSigner,
  NoneChallengeVerifier,
  OcspResponder,
  OtpChallengeVerifier,
  PostgresStore,
  SqliteStore,
  StaticChallengeVerifier,
  nameToString,
  readPrivateKeyFile,
} from '@scepkit/ca';
import type {
  AuthorityLogger,
  CertificateStore,
  ChallengeVerifier,
  IssuanceProfileOptions,
} from '@scepkit/ca';
import { keyObjectDecrypter, keyObjectSigner } from '@scepkit/scep';
import type { ScepPkiOptions } from '@scepkit/server';
import type { Config, EndpointConfig, ProfileConfig } from '../config/schema.js';
import { CliError } from '../errors.js';
import { openIntune, type IntuneServices } from '../intune/client.js';
import type { IntuneLogger } from '@scepkit/intune';
import { fromPemAll } from '../pem.js';
import { dataDirLayout } from './data-dir.js';
import { assertInitialized, keyPassphrase } from './init.js';
import { resolveSecret } from './secrets.js';

/** Everything `serve` (and the admin commands) run on, opened once. */
export interface Runtime {
  config: Config;
  store: CertificateStore;
  ca: CaIdentity;
  authority: Authority;
  crl: CrlPublisher;
  ocsp: OcspResponder;
  /** The delegated OCSP signer's certificate, if there is one. */
  ocspCertificate: Uint8Array | undefined;
  pki: ScepPkiOptions;
  /** Endpoint name (derived from its path) -> endpoint config. */
  endpoints: Map<string, EndpointConfig>;
  /** One Intune client per process, when the config has an `intune` section. */
  intune: IntuneServices | undefined;
  close(): Promise<void>;
}

async function readCerts(path: string): Promise<Uint8Array[]> {
  try {
    return fromPemAll(await readFile(path, 'utf8'), 'CERTIFICATE');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CliError('io', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** `/scep` -> `scep`, `/scep/intune` -> `scep-intune`. */
export function endpointName(path: string): string {
  return path.replace(/^\/+|\/+$/g, '').replace(/\//g, '-') || 'root';
}

export function openStore(config: Config): CertificateStore {
  if (config.store.type === 'postgres') {
    return new PostgresStore({
      connectionString: config.store.url,
      schema: config.store.schema,
      preparedStatements: config.store.preparedStatements,
    });
  }
  // FULL: the WAL is fsynced at every commit, so a certificate handed to a client survives even a power loss.
  return new SqliteStore({
    filename: config.store.path ?? dataDirLayout(config.dataDir).sqlite,
    synchronous: config.store.synchronous,
    checkpointThread: true,
  });
}

/**
 * CRL distribution point and AIA (OCSP, CA issuers) URLs for issued certificates, from the public URL (or the
 * listen address when it names a fixed port), so relying parties can check revocation.
 */
export function revocationUrls(config: Config): IssuanceProfileOptions {
  const s = config.server;
  const base =
    s.publicUrl?.replace(/\/+$/, '') ??
    (s.port !== 0 && s.host !== '0.0.0.0' && s.host !== '::'
      ? `${s.tls.enabled ? 'https' : 'http'}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`
      : undefined);
  if (!base) return {};
  return {
    crlDistributionPoints: [`${base}/crl`],
    ocspUrls: [`${base}/ocsp`],
    caIssuersUrls: [`${base}/ca.cer`],
  };
}

export function policyOptions(p: ProfileConfig): IssuanceProfileOptions {
  const o: IssuanceProfileOptions = {};
  if (p.validityDays !== undefined) o.validityDays = p.validityDays;
  if (p.maxValidityDays !== undefined) o.maxValidityDays = p.maxValidityDays;
  if (p.backdateSeconds !== undefined) o.backdateSeconds = p.backdateSeconds;
  if (p.rsaMinBits !== undefined) o.keys = { rsaMinBits: p.rsaMinBits };
  if (p.defaultEku) o.defaultEku = p.defaultEku;
  if (p.allowedEku) o.allowedEku = p.allowedEku;
  if (p.onDisallowed) o.onDisallowed = p.onDisallowed;
  if (p.sid) o.sid = p.sid;
  if (p.manualApproval !== undefined) o.manualApproval = p.manualApproval;
  return o;
}

interface VerifierContext {
  config: Config;
  store: CertificateStore;
  env: NodeJS.ProcessEnv;
  intune: IntuneServices | undefined;
  /** Issuer DN (RFC 4514) of the CA. */
  issuer: string;
  logger: AuthorityLogger | undefined;
}

async function verifierFor(e: EndpointConfig, x: VerifierContext): Promise<ChallengeVerifier> {
  const { config, store, env } = x;
  switch (e.challenge.type) {
    case 'none':
      return new NoneChallengeVerifier();
    case 'otp':
      return new OtpChallengeVerifier(store);
    case 'static': {
      const s = await resolveSecret({
        what: 'static challenge',
        envValue: env['SCEPKIT_STATIC_CHALLENGE'],
        file: e.challenge.passwordFile,
        generatedFile: dataDirLayout(config.dataDir).staticChallenge,
        generate: false,
      });
      return new StaticChallengeVerifier({ password: s.value });
    }
    case 'intune':
      if (!x.intune && x.config.intune) {
        return { verify: async () => ({ ok: false, reason: 'Intune is not reachable from this command' }) };
      }
      if (!x.intune)
        throw new CliError('config', `endpoint ${e.path}: an intune challenge needs the "intune" section`);
      return new IntuneChallengeVerifier({
        validator: x.intune.validator,
        store,
        caConfiguration: config.intune?.caConfiguration ?? `scepkit ${endpointName(e.path)}`,
        certificateAuthority: x.issuer,
        ...(x.logger ? { logger: x.logger } : {}),
      });
  }
}

/** Opens the store (migrated), imports the keys once, and builds the authority, CRL publisher and OCSP responder. */
export async function openRuntime(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  o: {
    logger?: AuthorityLogger;
    /** Where the Intune client logs its calls (activity ids, codes, retries; never a challenge or a token). */
    intuneLogger?: IntuneLogger;
    /**
     * Admin commands (certs, crl, requests, challenge) never enroll: they open no Intune client, so they need no
     * Intune secret, and an Intune endpoint gets a verifier that refuses (fail closed).
     */
    offline?: boolean;
  } = {},
): Promise<Runtime> {
  await assertInitialized(config);
  const l = dataDirLayout(config.dataDir);
  const { value: passphrase } = await keyPassphrase(config, env, false);
  const [caCert] = await readCerts(l.caCert);
  if (!caCert) throw new CliError('config', `${l.caCert} holds no certificate`);
  const parents = await readCerts(l.caChain);
  const caKey = await readPrivateKeyFile(l.caKey, passphrase);
  const ca = CaIdentity.create(new KeyObjectSigner(caKey), caCert, parents);

  const [raCert] = await readCerts(l.raCert);
  const raKey = raCert ? await readPrivateKeyFile(l.raKey, passphrase) : undefined;
  if (!raCert && caKey.asymmetricKeyType !== 'rsa') {
    throw new CliError(
      'config',
      'an EC CA needs an RSA RA for SCEP key transport: set ca.ra to true and re-init',
    );
  }
  const nextCaChain = config.ca.nextCaChainFile ? await readCerts(config.ca.nextCaChainFile) : [];
  if (config.ca.nextCaChainFile && nextCaChain.length === 0) {
    throw new CliError('config', `ca.nextCaChainFile ${config.ca.nextCaChainFile} holds no certificate`);
  }
  const pki: ScepPkiOptions = {
    caChain: ca.chain,
    signer: raCert && raKey ? keyObjectSigner(raCert, raKey) : keyObjectSigner(caCert, caKey),
    // In this thread: decrypting on a thread of its own (`workerDecrypter`) measured slower here, 58-61 vs
    // 63-64 enr/s at concurrency 1 and 88 vs 97 at 8; handing off only while other requests were in flight
    // did not pay either (no faster at 8, +0.3-0.5 CPU ms per enrollment; BENCHMARKS.md, 2026-12-06 22:35).
    decrypters: raCert && raKey ? [keyObjectDecrypter(raCert, raKey)] : [keyObjectDecrypter(caCert, caKey)],
    ...(raCert ? { raCertificates: [raCert] } : {}),
    ...(nextCaChain.length > 0 ? { nextCaChain } : {}),
  };

  const store = openStore(config);
  await store.migrate();
  const crl = new CrlPublisher({
    ca,
    store,
    validitySeconds: config.crl.validityHours * 3600,
    refreshBeforeSeconds: Math.max(60, (config.crl.validityHours - config.crl.refreshHours) * 3600),
  });
  const [ocspCert] = await readCerts(l.ocspCert);
  const ocsp = new OcspResponder({
    ca,
    store,
    ...(ocspCert
      ? {
          delegate: {
            signer: new KeyObjectSigner(await readPrivateKeyFile(l.ocspKey, passphrase)),
            certificateDer: ocspCert,
          },
        }
      : {}),
  });
  const intune =
    config.intune && !o.offline ? await openIntune(config.intune, env, o.intuneLogger) : undefined;
  const x: VerifierContext = {
    config,
    store,
    env,
    intune,
    issuer: nameToString(ca.subjectDer),
    logger: o.logger,
  };
  const endpoints = new Map<string, EndpointConfig>();
  const profiles: Record<string, { verifier: ChallengeVerifier; policy: IssuanceProfileOptions }> = {};
  for (const e of config.endpoints) {
    const name = endpointName(e.path);
    if (endpoints.has(name)) throw new CliError('config', `two endpoints map to the name ${name}`);
    endpoints.set(name, e);
    profiles[name] = {
      verifier: await verifierFor(e, x),
      policy: { ...revocationUrls(config), ...policyOptions(config.profiles[e.profile] ?? {}) },
    };
  }
  const authority = new Authority({ ca, store, profiles, crl, ...(o.logger ? { logger: o.logger } : {}) });
  return {
    config,
    store,
    ca,
    authority,
    crl,
    ocsp,
    ocspCertificate: ocspCert,
    pki,
    endpoints,
    intune,
    close: async () => {
      await intune?.close();
      await store.close();
    },
  };
}
