// Test helpers (not exported from the package): an Authority over an in-memory SqliteStore.
import { Authority, type AuthorityOptions } from '../enroll/authority.js';
import type { ProfileConfig } from '../enroll/types.js';
import { CrlPublisher } from '../revocation/crl.js';
import { SqliteStore } from '../store/index.js';
import { testCa } from './fixtures.js';

export interface Harness {
  authority: Authority;
  store: SqliteStore;
  crl: CrlPublisher;
  clock: { now: Date };
  caDer: Uint8Array;
  close(): Promise<void>;
}

export async function harness(
  profiles: Record<string, ProfileConfig> | ((store: SqliteStore) => Record<string, ProfileConfig>),
  extra: Partial<AuthorityOptions> = {},
): Promise<Harness> {
  const clock = { now: new Date('2026-06-01T12:00:00.000Z') };
  const now = () => new Date(clock.now.getTime());
  const store = new SqliteStore({ filename: ':memory:', clock: now });
  await store.migrate();
  const { identity, certificateDer } = await testCa();
  const crl = new CrlPublisher({ ca: identity, store, clock: now });
  const authority = new Authority({
    ca: identity,
    store,
    profiles: typeof profiles === 'function' ? profiles(store) : profiles,
    crl,
    clock: now,
    ...extra,
  });
  return { authority, store, crl, clock, caDer: certificateDer, close: () => store.close() };
}
