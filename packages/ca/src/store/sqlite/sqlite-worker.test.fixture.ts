// Worker thread for the two-connection test in sqlite-store.test.ts: runs a job on its own SqliteStore
// (its own connection to the same file) and posts what happened.
import { parentPort, workerData } from 'node:worker_threads';
import { DuplicateSerialError } from '../errors.js';
import { SqliteStore } from './sqlite-store.js';

export interface WorkerJob {
  filename: string;
  owner: string;
  serials: string[];
  crlNumbers: number;
  challenge: string;
  transactionIds: string[];
}

export interface WorkerResult {
  issued: string[];
  duplicates: number;
  crl: bigint[];
  challenge: string;
  claimed: number[];
  created: string[];
}

const job = workerData as WorkerJob;
const store = new SqliteStore({ filename: job.filename, busyTimeoutMs: 10_000 });
const result: WorkerResult = { issued: [], duplicates: 0, crl: [], challenge: '', claimed: [], created: [] };
const now = Date.now();
for (const serial of job.serials) {
  try {
    await store.issue({
      certificate: {
        serial,
        der: new Uint8Array(Buffer.from(serial, 'utf8')),
        subject: `CN=${serial}`,
        sans: [],
        notBefore: new Date(now),
        notAfter: new Date(now + 86_400_000),
        profile: 'p',
      },
      audit: { actor: job.owner, action: 'issue' },
    });
    result.issued.push(serial);
  } catch (err) {
    if (!(err instanceof DuplicateSerialError)) throw err;
    result.duplicates++;
  }
}
for (const transactionId of job.transactionIds) {
  const r = await store.beginTransaction({ transactionId, profile: 'p', requestHash: job.owner });
  if (r.created) result.created.push(transactionId);
}
for (let i = 0; i < job.crlNumbers; i++) result.crl.push(await store.nextCrlNumber());
result.challenge = await store.consumeChallenge(job.challenge);
for (;;) {
  const items = await store.claimOutbox({ owner: job.owner, limit: 3, leaseMs: 60_000 });
  if (items.length === 0) break;
  result.claimed.push(...items.map((i) => i.id));
}
await store.close();
parentPort?.postMessage(result);
