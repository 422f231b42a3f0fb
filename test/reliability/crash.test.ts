/*
 * Crash safety: ~200 concurrent enrollments, SIGKILL of `scepkit serve` in the middle, restart on the same data
 * directory. Every certificate a client received is in the store (same DER), no serial twice, one certificate per
 * transaction, no transaction left half-done, and re-sending the requests that got no answer completes them.
 * On SQLite and on PostgreSQL; one kill each in `npm test`, SCEPKIT_CRASH_ROUNDS=N for N kills each.
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
} from './harness.js';
import type { CaView, Device, HttpAnswer, PreparedRequest, ScepkitProcess } from './harness.js';
import {
  checkInvariants,
  dropSchema,
  openStore,
  requirePostgres,
  storeConfig,
  uniqueSchema,
} from './stores.js';
import type { Received, StoreKind } from './stores.js';

const ENROLLMENTS = 200;
/** Kills per store: 1 in `npm test`, more with SCEPKIT_CRASH_ROUNDS (e.g. 10). */
const ROUNDS = Math.max(1, Number(process.env['SCEPKIT_CRASH_ROUNDS'] ?? 1) || 1);
const PROFILE = 'default';

/** What one client got: a certificate, a refusal, or nothing (the server died first). */
type Outcome = { kind: 'cert'; der: Uint8Array } | { kind: 'refused'; why: string } | { kind: 'none' };

/**
 * One exchange; `undefined` when the client got no usable answer: the connection died, or an overloaded server
 * said 408/503 (a client retries those with the same bytes).
 */
async function exchange(url: string, req: PreparedRequest): Promise<HttpAnswer | undefined> {
  try {
    const ans = await pkiOperation(url, req.der, 'POST', 20_000);
    return ans.status === 408 || ans.status === 503 ? undefined : ans;
  } catch {
    return undefined;
  }
}

async function outcomeOf(ca: CaView, req: PreparedRequest, ans: HttpAnswer | undefined): Promise<Outcome> {
  if (!ans) return { kind: 'none' };
  if (ans.status !== 200) return { kind: 'refused', why: `HTTP ${ans.status}` };
  const rep = await readReply(ca, req, ans.body);
  if (rep.status !== 'SUCCESS') return { kind: 'refused', why: `${rep.status} ${rep.failInfo ?? ''}` };
  const der = issuedTo(rep, req.device);
  assert.ok(der, 'the CertRep holds the certificate for our key');
  return { kind: 'cert', der };
}

const attempt = async (url: string, ca: CaView, req: PreparedRequest) =>
  outcomeOf(ca, req, await exchange(url, req));

for (const kind of ['sqlite', 'postgres'] as const satisfies readonly StoreKind[]) {
  describe(`crash safety (${kind}): SIGKILL during ${ENROLLMENTS} concurrent enrollments`, () => {
    let skip: string | undefined;
    let dataDir: string;
    const schema = uniqueSchema('crash');
    let server: ScepkitProcess | undefined;
    let devices: Device[];

    before(async () => {
      if (kind === 'postgres') skip = await requirePostgres();
      if (skip) return;
      dataDir = tempDir(`crash-${kind}`);
      server = await spawnScepkit(dataDir, {
        server: NO_RATE_LIMIT,
        store: storeConfig(kind, schema),
        endpoints: [{ path: '/scep', profile: PROFILE, challenge: { type: 'static' } }],
        log: { level: 'warn' },
      });
      devices = await staticChallengeDevices(dataDir, ENROLLMENTS, 'crash');
    });
    after(async () => {
      await server?.kill();
      if (kind === 'postgres' && !skip) await dropSchema(schema);
    });

    it(`ok/sigkill-restart-resend-nothing-lost`, { skip, timeout: 85_000 * ROUNDS }, async (t) => {
      const received: Received[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const s = server!;
        const url = `${s.url}/scep`;
        const ca = await getCaCert(url);
        // A transactionID per device and round; the same key under another transactionID is a new enrollment.
        const reqs = await pool(devices, 16, (d, i) => prepare(ca, d, undefined, `crash-r${round}-${i}`));
        // Answers are decoded after the kill: the test's own event loop stays free to kill on time.
        const answers: (HttpAnswer | undefined)[] = new Array<HttpAnswer | undefined>(reqs.length);
        let answered = 0;
        const inFlight = pool(reqs, ENROLLMENTS, async (r, i) => {
          answers[i] = await exchange(url, r);
          if (answers[i]) answered++;
        });
        // Kill once about a third has been answered (or after 20 s, whichever first).
        const deadline = Date.now() + 20_000;
        while (answered < ENROLLMENTS / 3 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 5));
        await s.kill();
        await inFlight;
        const outcomes = await Promise.all(reqs.map((r, i) => outcomeOf(ca, r, answers[i])));
        // What the kill interrupted: transactions begun but not finished.
        const dead = openStore(kind, dataDir, schema);
        const interrupted = await dead.listTransactions({ state: 'pending', limit: 1000 });
        await dead.close();
        const got = outcomes.filter((o) => o.kind === 'cert').length;
        const refused = outcomes.filter((o) => o.kind === 'refused');
        assert.deepEqual(refused, [], 'no request refused before the kill');

        server = await spawnScepkit(dataDir);
        const url2 = `${server.url}/scep`;
        const ca2 = await getCaCert(url2);
        assert.ok(Buffer.from(ca2.ca).equals(Buffer.from(ca.ca)), 'same CA after restart');
        // Re-send the exact bytes of every request that got no answer: each completes.
        const unanswered = reqs
          .map((r, i) => [r, i] as const)
          .filter(([, i]) => outcomes[i]!.kind === 'none');
        await pool(unanswered, 16, async ([r, i]) => {
          outcomes[i] = await attempt(url2, ca2, r);
          assert.equal(
            outcomes[i].kind,
            'cert',
            `re-sent ${r.transactionId}: ${JSON.stringify(outcomes[i])}`,
          );
        });
        // A re-send of an answered request returns the same certificate (no double issuance).
        const first = outcomes.findIndex((o) => o.kind === 'cert');
        assert.deepEqual(await attempt(url2, ca2, reqs[first]!), outcomes[first]);

        for (const [i, o] of outcomes.entries()) {
          assert.equal(o.kind, 'cert');
          if (o.kind === 'cert')
            received.push({
              transactionId: reqs[i]!.transactionId,
              profile: PROFILE,
              der: o.der,
              serial: serialOf(o.der),
            });
        }
        t.diagnostic(
          `round ${round}: ${got} answered before SIGKILL, ${interrupted.length} transactions interrupted, ` +
            `${unanswered.length} requests re-sent after restart`,
        );
      }
      const store = openStore(kind, dataDir, schema);
      try {
        const lost = await checkInvariants(store, received);
        console.log(
          `crash (${kind}): ${ROUNDS} SIGKILL(s) survived, ${received.length} certificates received, ${lost} lost`,
        );
        assert.equal(lost, 0, 'no received certificate missing from the store');
        assert.equal(received.length, ROUNDS * ENROLLMENTS);
      } finally {
        await store.close();
      }
    });
  });
}
