import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  Authority,
  CrlPublisher,
  createRootCa,
  issueRaCertificate,
  IntuneChallengeVerifier,
  OcspResponder,
  SqliteStore,
  StaticChallengeVerifier,
} from '@scepkit/ca';
import type { EnrollResult } from '@scepkit/ca';
import { IntuneServiceError } from '@scepkit/intune';
import { keyObjectDecrypter, keyObjectSigner } from '@scepkit/scep';
import type { LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../admin/password.js';
import type { AdminConsoleOptions } from '../admin/options.js';
import type { ScepServerOptions } from '../options.js';
import { authorityBackend } from '../authority-backend.js';
import { createScepServer } from '../server.js';
import type { ScepServer } from '../server.js';
import { buildCsr } from './der.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';
export const SECRET = 'enroll-secret-1';
const HOUR = 3_600_000;

/** A settable clock shared by the store, the Authority, the CRL publisher and the console. */
export class TestClock {
  ms: number;
  constructor() {
    // Half past the current hour: events land in known hourly buckets.
    this.ms = Math.floor(Date.now() / HOUR) * HOUR + HOUR / 2;
  }
  readonly now = (): Date => new Date(this.ms);
}

let keys: { rsa2048: KeyObject; rsa1024: KeyObject } | undefined;
function testKeys() {
  keys ??= {
    rsa2048: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
  };
  return keys;
}

export interface AdminFixture {
  server: ScepServer;
  store: SqliteStore;
  authority: Authority;
  clock: TestClock;
  caDer: Uint8Array;
  /** Enrolls through the Authority (profiles: `static`, `manual`, `intune` (refuses), `intune-ok`). */
  enroll(o: { cn: string; profile?: string; weak?: boolean; transactionId?: string }): Promise<EnrollResult>;
  close(): Promise<void>;
}

let counter = 0;

/** The real Authority on in-memory SQLite, behind `createScepServer` with the admin console. */
export async function adminFixture(
  admin: Partial<AdminConsoleOptions> = {},
  serverOptions: Partial<ScepServerOptions> = {},
): Promise<AdminFixture> {
  const clock = new TestClock();
  const root = await createRootCa({
    subject: 'CN=scepkit admin test CA, O=scepkit',
    key: { type: 'rsa', bits: 2048 },
    singleCaMode: true,
  });
  const ra = await issueRaCertificate(root.identity, { subject: 'CN=scepkit admin test RA' });
  const store = new SqliteStore({ filename: ':memory:', clock: clock.now });
  await store.migrate();
  const crl = new CrlPublisher({ ca: root.identity, store, clock: clock.now });
  const authority = new Authority({
    ca: root.identity,
    store,
    crl,
    clock: clock.now,
    profiles: {
      static: { verifier: new StaticChallengeVerifier({ password: SECRET }) },
      manual: {
        verifier: new StaticChallengeVerifier({ password: SECRET }),
        policy: { manualApproval: true },
      },
      // Intune's verifier with a validator that answers as Intune does for an expired challenge.
      intune: {
        verifier: new IntuneChallengeVerifier({
          store,
          validator: {
            validateRequest: async (transactionId) => {
              throw new IntuneServiceError({
                code: 'ChallengeExpired',
                rawCode: 'ChallengeExpired',
                description: 'the challenge has expired',
                transactionId,
                activityId: '00000000-0000-0000-0000-000000000000',
              });
            },
            sendSuccessNotification: async () => ({ activityId: 'a' }),
            sendFailureNotification: async () => ({ activityId: 'a' }),
          },
        }),
      },
      // Intune validates and receives the success notification.
      'intune-ok': {
        verifier: new IntuneChallengeVerifier({
          store,
          validator: {
            validateRequest: async () => ({ activityId: 'a' }),
            sendSuccessNotification: async () => ({ activityId: 'a' }),
            sendFailureNotification: async () => ({ activityId: 'a' }),
          },
        }),
      },
    },
  });
  const backend = authorityBackend({
    authority,
    crl,
    ocsp: new OcspResponder({ ca: root.identity, store }),
    store,
  });
  const server = createScepServer({
    endpoints: [{ path: '/scep', name: 'static', backend, pki: pkiOf(root, ra) }],
    rateLimit: false,
    clock: clock.now,
    metrics: { defaultMetrics: false },
    ...serverOptions,
    admin: {
      passwordHash: await hashPassword(ADMIN_PASSWORD, { N: 1024, r: 8, p: 1 }),
      store,
      authority,
      chain: root.identity.chain,
      certificates: [
        { role: 'CA', der: root.certificateDer },
        { role: 'RA', der: ra.certificateDer },
      ],
      intuneProfiles: ['intune', 'intune-ok'],
      clock: clock.now,
      ...admin,
    },
  });
  const k = testKeys();
  return {
    server,
    store,
    authority,
    clock,
    caDer: root.certificateDer,
    enroll: (o) =>
      authority.enroll({
        messageType: 'PKCSReq',
        transactionId: o.transactionId ?? `tx-${++counter}-${o.cn}`,
        csrDer: buildCsr({ cn: o.cn, key: o.weak ? k.rsa1024 : k.rsa2048, challenge: SECRET }),
        profile: o.profile ?? 'static',
      }),
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

function pkiOf(
  root: { certificateDer: Uint8Array; privateKey: KeyObject },
  ra: { certificateDer: Uint8Array; privateKey: KeyObject },
) {
  return {
    caChain: [root.certificateDer],
    raCertificates: [ra.certificateDer],
    signer: keyObjectSigner(ra.certificateDer, ra.privateKey),
    decrypters: [keyObjectDecrypter(ra.certificateDer, ra.privateKey)],
  };
}

/** A signed-in console session for `app.inject`. */
export interface TestSession {
  cookie: string;
  csrf: string;
}

export const ORIGIN = 'http://localhost';

export function cookieOf(r: LightMyRequestResponse): string {
  const set = r.headers['set-cookie'];
  const first = Array.isArray(set) ? set[0] : set;
  if (!first) throw new Error(`no set-cookie (HTTP ${r.statusCode}: ${r.body})`);
  return first.split(';')[0]!;
}

export async function signIn(server: ScepServer, password = ADMIN_PASSWORD): Promise<TestSession> {
  const r = await server.app.inject({
    method: 'POST',
    url: '/admin/api/login',
    headers: { origin: ORIGIN },
    payload: { password },
  });
  if (r.statusCode !== 200) throw new Error(`login: HTTP ${r.statusCode} ${r.body}`);
  return { cookie: cookieOf(r), csrf: (r.json() as { csrfToken: string }).csrfToken };
}
