import { randomBytes } from 'node:crypto';
import { PostgresStore, SqliteStore } from '@scepkit/ca';
import type { CertificateStore } from '@scepkit/ca';
import { vacuumAnalyze } from './postgres.js';

/**
 * The rows one enrollment leaves in a store, written through the store API as the authority writes them for a
 * PKCSReq: the transaction begun, then the certificate issued against it with its audit event. The DER is
 * `template` with its last 16 bytes replaced by the serial, so thumbprints are distinct; stores do not parse it.
 */
export async function enrollmentRows(
  store: CertificateStore,
  template: Uint8Array,
  i: number,
): Promise<void> {
  const key = { transactionId: randomBytes(20).toString('hex'), profile: 'default' };
  await store.beginTransaction({ ...key, requestHash: randomBytes(32).toString('hex'), csr: null });
  const serialBytes = randomBytes(16);
  // Positive, no leading zero nibble (the store wants lowercase hex without leading zeros).
  serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x10;
  const serial = serialBytes.toString('hex');
  const der = new Uint8Array(template);
  der.set(serialBytes, der.length - 16);
  const subject = `CN=device-${i}-${serial.slice(0, 8)},O=scepkit-bench`;
  const notBefore = new Date();
  await store.issue({
    certificate: {
      serial,
      der,
      subject,
      sans: [`dns:d${i}.example.com`],
      notBefore,
      notAfter: new Date(notBefore.getTime() + 365 * 86400_000),
      profile: 'default',
      transactionId: key.transactionId,
    },
    transaction: key,
    audit: {
      actor: 'scep',
      action: 'issue',
      transactionId: key.transactionId,
      serial,
      subject,
      details: { profile: 'default', messageType: 'PKCSReq', validatedByIntune: false },
    },
  });
}

/** `count` enrollments' rows (`enrollmentRows`), `parallel` at a time; returns the seconds taken. */
export async function prefill(
  store: CertificateStore,
  template: Uint8Array,
  count: number,
  parallel: number,
): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) await enrollmentRows(store, template, next++);
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
