import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { CertificateStore, NewCertificate, StoreCommonOptions } from '../types.js';

/** One empty database on which several store instances ("nodes") can be opened. */
export interface TestDatabase {
  /** Open a new, not yet migrated store instance on this database. */
  open(options?: StoreCommonOptions): Promise<CertificateStore>;
  /** Close every store opened here and delete the database. */
  drop(): Promise<void>;
}

/** What an implementation supplies to run the conformance suite. */
export interface StoreFactory {
  name: string;
  /**
   * An empty database. Unless `pristine`, it may be an already migrated one that was emptied (cheaper);
   * `pristine: true` means `migrate()` has never run on it.
   */
  createDatabase(options?: { pristine?: boolean }): Promise<TestDatabase>;
}

/** A settable clock shared by the stores of a test. */
export class FakeClock {
  constructor(public ms = Date.UTC(2026, 0, 15, 12, 0, 0)) {}
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Fixture {
  db: TestDatabase;
  store: CertificateStore;
  clock: FakeClock;
  /** Another migrated store instance on the same database (a second node). */
  second(): Promise<CertificateStore>;
}

/** A fresh, migrated store with a fake clock; the database is dropped after the test. */
export async function fresh(t: TestContext, factory: StoreFactory): Promise<Fixture> {
  const db = await factory.createDatabase();
  t.after(() => db.drop());
  const clock = new FakeClock();
  const store = await db.open({ clock: clock.now });
  await store.migrate();
  return {
    db,
    store,
    clock,
    second: async () => {
      const s = await db.open({ clock: clock.now });
      await s.migrate();
      return s;
    },
  };
}

/** A random positive serial (16 octets, leading nibble non-zero). */
export function randomSerial(): string {
  const hex = randomBytes(16).toString('hex');
  return `${'123456789abcdef'[Number.parseInt(hex[0] ?? '0', 16) % 15]}${hex.slice(1)}`;
}

const DAY = 86_400_000;

/** A certificate record; DER is random bytes (the store does not parse certificates). */
export function makeCert(clock: FakeClock, overrides: Partial<NewCertificate> = {}): NewCertificate {
  const serial = overrides.serial ?? randomSerial();
  return {
    serial,
    der: new Uint8Array(randomBytes(64)),
    subject: `CN=device-${serial.slice(0, 8)},O=Example`,
    sans: [`dns:${serial.slice(0, 8)}.example.test`],
    notBefore: new Date(clock.ms - 60_000),
    notAfter: new Date(clock.ms + 365 * DAY),
    profile: 'intune',
    ...overrides,
  };
}

export const DAY_MS = DAY;

/** Settled results split by outcome. */
export async function settle<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  const ok: T[] = [];
  const errors: unknown[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') ok.push(r.value);
    else errors.push(r.reason);
  }
  return { ok, errors };
}
