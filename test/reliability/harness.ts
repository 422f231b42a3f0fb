/*
 * Shared by the reliability tests: a scepkit process we can SIGKILL and measure, and a minimal SCEP client that
 * builds requests ahead of time (so a test can replay, mutate or re-send the exact bytes).
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { KeyObject, X509Certificate, webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import {
  buildPkiRequest,
  decodeCertRep,
  keyObjectDecrypter,
  keyObjectSigner,
  parseCertsOnly,
  readCsr,
  selfSignedCertificate,
} from '@scepkit/scep';
import type { CertRepResult, RequestBody, ScepDecrypter, ScepSigner } from '@scepkit/scep';
import { SCEPKIT } from '../support/tools.js';

export const PG_URL =
  process.env['SCEPKIT_TEST_PG'] ?? 'postgres://scepkit:scepkit@127.0.0.1:5432/scepkit_test';

/** Loopback load from one address: the default 600/min rate limit would answer 429. */
export const NO_RATE_LIMIT = { host: '127.0.0.1', port: 0, rateLimitPerMinute: 10_000_000 };

export interface ScepkitProcess {
  url: string;
  pid: number;
  dataDir: string;
  output(): string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: no shutdown code runs. */
  kill(): Promise<void>;
  exited(): boolean;
}

/**
 * Starts `scepkit serve --init` on 127.0.0.1 port 0. Writes `scepkit.json` when `config` is given, else reuses the
 * one in `dataDir` (restart on the same data directory).
 */
export async function spawnScepkit(
  dataDir: string,
  config?: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): Promise<ScepkitProcess> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'scepkit.json');
  if (config) writeFileSync(file, JSON.stringify({ dataDir: '.', ...config }, null, 2));
  const child: ChildProcess = spawn(process.execPath, [SCEPKIT, '-c', file, 'serve', '--init'], {
    env: {
      ...process.env,
      SCEPKIT_PORT: '0',
      SCEPKIT_HOST: '127.0.0.1',
      SCEPKIT_CA_KEY_TYPE: 'rsa-2048',
      SCEPKIT_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (d: Buffer) => {
    // Keep the tail only: a fuzz run logs a lot.
    out = (out + d.toString()).slice(-200_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scepkit did not start:\n${out}`)), 60_000);
    const check = () => {
      const m = /scepkit listening on (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`scepkit exited with ${child.exitCode}:\n${out}`));
    });
  });
  const signal = (s: NodeJS.Signals) => async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
    await exit;
  };
  return {
    url,
    pid: child.pid!,
    dataDir,
    output: () => out,
    stop: signal('SIGTERM'),
    kill: signal('SIGKILL'),
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

/** Resident set size of a process in KiB (Linux /proc). */
export function rssKib(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

export interface HttpAnswer {
  status: number;
  body: Uint8Array;
  contentType: string;
  /** The Retry-After header, when there is one. */
  retryAfter?: string;
}

/**
 * One HTTP exchange on its own connection (no keep-alive: undici's pool may reuse a socket the server is closing
 * after its 5 s keepAliveTimeout, which a loaded machine turns into spurious "other side closed" errors).
 * Rejects on a network error or after `timeoutMs` (a hang).
 */
export function httpRequest(
  url: string,
  o: { method?: 'GET' | 'POST'; body?: Uint8Array; contentType?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: o.method ?? 'GET',
        agent: false,
        headers: o.body
          ? { 'content-type': o.contentType ?? 'application/octet-stream', 'content-length': o.body.length }
          : {},
        timeout: o.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: new Uint8Array(Buffer.concat(chunks)),
            contentType: res.headers['content-type'] ?? '',
            ...(res.headers['retry-after'] ? { retryAfter: res.headers['retry-after'] } : {}),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in ${o.timeoutMs ?? 15_000} ms`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** PKIOperation by POST or by GET (base64, escaped), with a hard timeout: a hang fails the caller. */
export function pkiOperation(
  scepUrl: string,
  der: Uint8Array,
  method: 'POST' | 'GET' = 'POST',
  timeoutMs = 15_000,
): Promise<HttpAnswer> {
  return method === 'POST'
    ? httpRequest(`${scepUrl}?operation=PKIOperation`, {
        method: 'POST',
        body: der,
        contentType: 'application/x-pki-message',
        timeoutMs,
      })
    : httpRequest(
        `${scepUrl}?operation=PKIOperation&message=${encodeURIComponent(Buffer.from(der).toString('base64'))}`,
        { timeoutMs },
      );
}

export interface CaView {
  /** All certificates of GetCACert. */
  all: Uint8Array[];
  /** The RA (or the CA when there is none): where requests are encrypted to. */
  recipient: Uint8Array;
  ca: Uint8Array;
}

export async function getCaCert(scepUrl: string): Promise<CaView> {
  const res = await fetch(`${scepUrl}?operation=GetCACert`, { signal: AbortSignal.timeout(10_000) });
  const body = new Uint8Array(await res.arrayBuffer());
  const all =
    res.headers.get('content-type') === 'application/x-x509-ca-cert'
      ? [body]
      : parseCertsOnly(body).certificates;
  const ca = all.find((c) => new X509Certificate(c).ca);
  const ra = all.find((c) => !new X509Certificate(c).ca);
  if (!ca) throw new Error('GetCACert: no CA certificate');
  return { all, recipient: ra ?? ca, ca };
}

export interface Device {
  key: KeyObject;
  csr: Uint8Array;
  /** Self-signed (PKCSReq) signer and the matching decrypter for the reply. */
  signer: ScepSigner;
  decrypter: ScepDecrypter;
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export interface CsrOptions {
  subject: string;
  challenge?: string;
  sans?: x509.JsonGeneralName[];
  extensions?: x509.Extension[];
  /** Reuse a key pair (e.g. to make several CSRs fast). */
  keys?: webcrypto.CryptoKeyPair;
}

export async function rsaKeys(bits = 2048): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
}

/** A new key, a CSR for it, and the self-signed certificate a PKCSReq is signed with. */
export async function makeDevice(o: CsrOptions): Promise<Device> {
  const keys = o.keys ?? (await rsaKeys());
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    name: o.subject,
    keys,
    signingAlgorithm: RSA,
    extensions: [
      ...(o.sans?.length ? [new x509.SubjectAlternativeNameExtension(o.sans)] : []),
      ...(o.extensions ?? []),
    ],
    attributes: o.challenge ? [new x509.ChallengePasswordAttribute(o.challenge)] : [],
  });
  const csr = new Uint8Array(req.rawData);
  const key = KeyObject.from(keys.privateKey);
  const cert = selfSignedCertificate({ subject: readCsr(csr).subject, privateKey: key });
  return { key, csr, signer: keyObjectSigner(cert, key), decrypter: keyObjectDecrypter(cert, key) };
}

export interface PreparedRequest {
  der: Uint8Array;
  transactionId: string;
  senderNonce: Uint8Array;
  device: Device;
}

export async function prepare(
  ca: CaView,
  device: Device,
  body: RequestBody = { messageType: 'PKCSReq', csr: device.csr },
  transactionId?: string,
): Promise<PreparedRequest> {
  const r = await buildPkiRequest({
    body,
    signer: device.signer,
    recipients: [ca.recipient],
    digest: 'sha256',
    cipher: 'aes-256-cbc',
    ...(transactionId ? { transactionId } : {}),
  });
  return { der: r.der, transactionId: r.transactionId, senderNonce: r.senderNonce, device };
}

/** Decodes and checks (signer, transactionID, nonce) the CertRep answering `req`. */
export async function readReply(ca: CaView, req: PreparedRequest, body: Uint8Array): Promise<CertRepResult> {
  return await decodeCertRep(body, {
    decrypter: req.device.decrypter,
    expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
    trustedSigners: ca.all,
  });
}

/** The certificate of a SUCCESS CertRep that holds the device's key. */
export function issuedTo(rep: CertRepResult, device: Device): Uint8Array | undefined {
  const spki = readCsr(device.csr).publicKey;
  return rep.certificates.find((c) =>
    new X509Certificate(c).publicKey.export({ format: 'der', type: 'spki' }).equals(spki),
  );
}

/** Lowercase hex serial without leading zeros, as the store keys it. */
export function serialOf(der: Uint8Array): string {
  return new X509Certificate(der).serialNumber.toLowerCase().replace(/^0+/, '') || '0';
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>) {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * `count` devices with the static challenge of the data directory `dataDir`, subjects `CN=<name>-<i>,O=scepkit`,
 * on four RSA keys (a key per device would cost a key generation each; a CSR and transactionID per device).
 */
export async function staticChallengeDevices(
  dataDir: string,
  count: number,
  name: string,
): Promise<Device[]> {
  const challenge = readFileSync(join(dataDir, 'secrets', 'static-challenge'), 'utf8').trim();
  const keys = await Promise.all([0, 1, 2, 3].map(() => rsaKeys()));
  return pool([...Array(count).keys()], 8, (i) =>
    makeDevice({ subject: `CN=${name}-${i},O=scepkit`, challenge, keys: keys[i % keys.length]! }),
  );
}

/** The pids whose parent is `pid` (Linux /proc): the workers of a `serve --workers` primary. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
  }
  return out;
}
