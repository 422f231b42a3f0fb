import { randomBytes } from 'node:crypto';
import { PostgresStore, SqliteStore } from '@scepkit/ca';
import type { CertificateStore } from '@scepkit/ca';
import { vacuumAnalyze } from './postgres.js';

/**
 * Adds certificate rows through the store API (`CertificateStore.issue`, out-of-band issuance with its audit
 * event), `count` of them, `parallel` at a time. The DER is a template certificate whose last 16 bytes are
 * replaced by the serial, so thumbprints are distinct; stores do not parse it.
 */
export async function prefill(
  store: CertificateStore,
  template: Uint8Array,
  count: number,
  parallel: number,
): Promise<number> {
  const t0 = performance.now();
  const notBefore = new Date();
  const notAfter = new Date(notBefore.getTime() + 365 * 86400_000);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const serialBytes = randomBytes(16);
      // Positive, no leading zero nibble (the store wants lowercase hex without leading zeros).
      serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x10;
      const serial = serialBytes.toString('hex');
      const der = new Uint8Array(template);
      der.set(serialBytes, der.length - 16);
      const subject = `CN=prefill-${i}-${serial.slice(0, 8)},O=scepkit-bench`;
      await store.issue({
        certificate: { serial, der, subject, sans: [], notBefore, notAfter, profile: 'default' },
        audit: { actor: 'system', action: 'issue', subject, details: { bench: 'prefill' } },
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return (performance.now() - t0) / 1000;
}

export async function prefillSqlite(filename: string, template: Uint8Array, count: number): Promise<number> {
  // NORMAL: no fsync per row; the fill is setup, not measured.
  const store = new SqliteStore({ filename, synchronous: 'NORMAL' });
  try {
    await store.migrate();
    return await prefill(store, template, count, 1);
  } finally {
    await store.close();
  }
}

export async function prefillPostgres(
  url: string,
  schema: string,
  template: Uint8Array,
  count: number,
): Promise<number> {
  const store = new PostgresStore({ connectionString: url, schema, poolMax: 16 });
  try {
    await store.migrate();
    const n = await prefill(store, template, count, 16);
    // What autovacuum would do some time after a bulk insert, done now: otherwise it may start during the
    // measured point and take CPU from the server on this 2-core machine.
    await vacuumAnalyze(url, schema);
    return n;
  } finally {
    await store.close();
  }
}
