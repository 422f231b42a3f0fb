import 'reflect-metadata';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { IntuneEmulator } from '../emulator.js';
import type { EmulatorResponse } from '../http.js';
import { createEmulatorKeys, type EmulatorKeys } from '../keys.js';
import { seedEmulator, type SeedResult } from '../seed.js';
import { CLIENT_KEY_2048, DEVICE_KEY_1024, DEVICE_KEY_2048_A, DEVICE_KEY_2048_B, SIGNING_KEY_2048 } from './fixed-keys.js';

let keysPromise: Promise<EmulatorKeys> | undefined;
/** One emulator key set per test process (RSA generation is slow on shared cores). */
export function sharedKeys(): Promise<EmulatorKeys> {
  keysPromise ??= createEmulatorKeys({ signingKey: createPrivateKey(SIGNING_KEY_2048) });
  return keysPromise;
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

/** Imports a fixed PEM RSA key as a WebCrypto key pair. */
async function importPair(pem: string): Promise<webcrypto.CryptoKeyPair> {
  const key = createPrivateKey(pem);
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), RSA, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      createPublicKey(key).export({ format: 'der', type: 'spki' }),
      RSA,
      true,
      ['verify'],
    ),
  };
}

/** Fixed device key pairs (2048-bit slots 0 and 1, or 1024-bit). */
export function sharedDeviceKeys(bits: 1024 | 2048, slot: 0 | 1 = 0): Promise<webcrypto.CryptoKeyPair> {
  return importPair(bits === 1024 ? DEVICE_KEY_1024 : slot === 0 ? DEVICE_KEY_2048_A : DEVICE_KEY_2048_B);
}

export const BASE_URL = 'https://127.0.0.1:8444';
/** 2026-11-27T03:00:00Z. */
export const T0 = Date.UTC(2026, 10, 27, 3, 0, 0);

export interface Fixture {
  emu: IntuneEmulator;
  seed: SeedResult;
  clock: { now: number };
  /** Calls `emu.handle` and parses a JSON body. */
  call(
    method: string,
    url: string,
    options?: { headers?: Record<string, string>; body?: string | object },
  ): Promise<{ status: number; json: Record<string, unknown>; raw: EmulatorResponse }>;
  /** A token for `scope` with the seeded app's secret (asserts success). */
  token(scope: string, clientId?: string, secret?: string, tenant?: string): Promise<string>;
}

export const INTUNE_SCOPE = 'https://api.manage.microsoft.com//.default';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/** An in-process emulator on a pinned clock, seeded. */
export async function makeFixture(): Promise<Fixture> {
  const clock = { now: T0 };
  const emu = new IntuneEmulator({ keys: await sharedKeys(), now: () => clock.now, baseUrl: BASE_URL });
  const seed = seedEmulator(emu);
  const call: Fixture['call'] = async (method, url, options = {}) => {
    const body = options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const raw = await emu.handle({ method, url, headers: { ...lower(options.headers ?? {}) }, body });
    const text = typeof raw.body === 'string' ? raw.body : JSON.stringify(raw.body);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = {};
    }
    return { status: raw.status, json, raw };
  };
  const token: Fixture['token'] = async (scope, clientId = seed.app.clientId, secret = seed.clientSecret, tenant = seed.tenant.domain) => {
    const r = await call('POST', `/${tenant}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope }).toString(),
    });
    if (r.status !== 200) throw new Error(`token failed: ${r.status} ${JSON.stringify(r.json)}`);
    return String(r.json['access_token']);
  };
  return { emu, seed, clock, call, token };
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** An RSA client certificate (self-signed) as registered on an Entra app, with its private KeyObject. */
export async function makeClientCertificate(): Promise<{ pem: string; privateKey: KeyObject; der: Buffer }> {
  const privateKey = createPrivateKey(CLIENT_KEY_2048);
  const alg = RSA;
  const keys = await importPair(CLIENT_KEY_2048);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: `01${randomBytes(8).toString('hex')}`,
      name: 'CN=scepkit-test-app',
      notBefore: new Date(T0 - 86400_000),
      notAfter: new Date(T0 + 365 * 86400_000),
      signingAlgorithm: alg,
      keys,
    },
    webcrypto,
  );
  return { pem: cert.toString('pem'), privateKey, der: Buffer.from(cert.rawData) };
}
