/*
 * `scepkit serve --workers 2` under load, one worker SIGKILLed in the middle: the other worker keeps serving, the
 * primary starts a new one, and re-sending the requests that got no answer (same bytes, same URL, no restart by
 * the test) completes each of them. Every certificate a client received is in the store, no serial twice, one
 * certificate per transaction, nothing left half-done. On SQLite (two processes on one file) and on PostgreSQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../support/tools.js';
import {
  NO_RATE_LIMIT,
  getCaCert,
  issuedTo,
  pkiOperation,
  pool,
  prepare,
  readReply,
  serialOf,
  spawnScepkit,
  staticChallengeDevices,
  childPids,
} from './harness.js';
import type { CaView, Device, PreparedRequest, ScepkitProcess } from './harness.js';
import {
  checkInvariants,
  dropSchema,
  openStore,
  requirePostgres,
  storeConfig,
  uniqueSchema,
} from './stores.js';
import type { Received, StoreKind } from './stores.js';

const ENROLLMENTS = 120;
const PROFILE = 'default';

/** A certificate, or undefined when the client got no usable answer (connection died, 408/503). */
async function enroll(url: string, ca: CaView, req: PreparedRequest): Promise<Uint8Array | undefined> {
  let ans;
  try {
    ans = await pkiOperation(url, req.der, 'POST', 20_000);
  } catch {
    return undefined;
  }
  if (ans.status === 408 || ans.status === 503) return undefined;
  assert.equal(ans.status, 200, `${req.transactionId}: HTTP ${ans.status}`);
  const rep = await readReply(ca, req, ans.body);
  assert.equal(rep.status, 'SUCCESS', `${req.transactionId}: ${rep.status} ${rep.failInfo ?? ''}`);
  const der = issuedTo(rep, req.device);
  assert.ok(der, 'the CertRep holds the certificate for our key');
  return der;
}

for (const kind of ['sqlite', 'postgres'] as const satisfies readonly StoreKind[]) {
  describe(`serve --workers 2 (${kind}): a worker SIGKILLed during ${ENROLLMENTS} enrollments`, () => {
    let skip: string | undefined;
    let dataDir: string;
    const schema = uniqueSchema('cluster');
    let server: ScepkitProcess | undefined;
    let devices: Device[];

    before(async () => {
      if (kind === 'postgres') skip = await requirePostgres();
      if (skip) return;
      dataDir = tempDir(`cluster-${kind}`);
      server = await spawnScepkit(
        dataDir,
        {
          server: NO_RATE_LIMIT,
          store: storeConfig(kind, schema),
          endpoints: [{ path: '/scep', profile: PROFILE, challenge: { type: 'static' } }],
          log: { level: 'warn' },
        },
        { SCEPKIT_WORKERS: '2' },
      );
      devices = await staticChallengeDevices(dataDir, ENROLLMENTS, 'cluster');
    });
    after(async () => {
      await server?.stop();
      if (kind === 'postgres' && !skip) await dropSchema(schema);
    });

    it('ok/other-worker-serves-killed-one-restarted-nothing-lost', { skip, timeout: 90_000 }, async (t) => {
      const s = server!;
      const url = `${s.url}/scep`;
      const ca = await getCaCert(url);
      const workers = childPids(s.pid);
      assert.equal(workers.length, 2, 'a primary and two workers');
      const reqs = await pool(devices, 16, (d, i) => prepare(ca, d, undefined, `cluster-${kind}-${i}`));
      const certs: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(reqs.length);
      let answered = 0;
      // Fresh connections, handed to the workers in turn: the kill hits the requests of one of them.
      const inFlight = pool(reqs, 24, async (r, i) => {
        certs[i] = await enroll(url, ca, r);
        if (certs[i]) answered++;
      });
      const deadline = Date.now() + 30_000;
      while (answered < ENROLLMENTS / 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      process.kill(workers[0]!, 'SIGKILL');
      const atKill = answered;
      await inFlight;
      const beforeResend = answered;

      // Same URL, same process tree: the cluster never stopped serving.
      const unanswered = reqs.map((r, i) => [r, i] as const).filter(([, i]) => !certs[i]);
      await pool(unanswered, 8, async ([r, i]) => {
        certs[i] = await enroll(url, ca, r);
        assert.ok(certs[i], `re-sent ${r.transactionId} completes`);
      });
      assert.ok(beforeResend > atKill, 'the other worker went on answering after the kill');
      const now = childPids(s.pid);
      assert.equal(now.length, 2, 'the primary started a new worker');
      assert.ok(!now.includes(workers[0]!));
      assert.match(s.output(), /worker \d \(pid \d+\) exited \(SIGKILL\): starting another/);

      const received: Received[] = certs.map((der, i) => ({
        transactionId: reqs[i]!.transactionId,
        profile: PROFILE,
        der: der!,
        serial: serialOf(der!),
      }));
      const store = openStore(kind, dataDir, schema);
      try {
        assert.equal(await checkInvariants(store, received), 0, 'no received certificate missing');
        assert.equal(received.length, ENROLLMENTS);
      } finally {
        await store.close();
      }
      t.diagnostic(
        `${atKill} answered before the kill, ${beforeResend - atKill} after it in the first pass, ` +
          `${unanswered.length} re-sent`,
      );
    });
  });
}
