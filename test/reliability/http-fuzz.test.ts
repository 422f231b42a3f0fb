/*
 * HTTP fuzz against `scepkit serve` (a separate process): mutated real requests (ours and real client captures,
 * at the outer, envelope and CSR depth), random bytes and random query strings, by POST and GET.
 * Every answer is 400 or a signed CertRep (FAILURE unless the request is still authentic); never 5xx, never a hang;
 * the server's memory stays bounded. `SCEPKIT_FUZZ_RUNS=100000 npm run fuzz` runs the same properties for longer.
 *
 * Memory: the server runs with a capped V8 heap (HEAP_MIB), so a leak of any size that matters kills it with an
 * out-of-memory error, which the last assertion sees; and its RSS after the first quarter of the cases (heap,
 * OpenSSL's and glibc's arenas warmed up) must not grow by more than RSS_GROWTH_MIB by the end. Measuring from
 * the start instead counts the warm-up, which on an idle 24 GiB machine is ~100 MiB and says nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  captureRequests,
  codecArbitraries,
  checkCase,
  fuzzCaseArb,
  fuzzRuns,
  newTally,
} from '../support/fuzz.js';
import type { FuzzInputs } from '../support/fuzz.js';
import { tempDir } from '../support/tools.js';
import {
  NO_RATE_LIMIT,
  getCaCert,
  httpRequest,
  makeDevice,
  pkiOperation,
  prepare,
  readReply,
  rssKib,
  spawnScepkit,
} from './harness.js';
import type { ScepkitProcess } from './harness.js';

const RUNS = fuzzRuns(2000);
/** Cases sent concurrently per property run. */
const PARALLEL = 4;
const seed = process.env['SCEPKIT_FUZZ_SEED'] ? Number(process.env['SCEPKIT_FUZZ_SEED']) : Date.now();
/** In `npm test` the run stops after this long (a loaded CI machine does fewer cases); `npm run fuzz` never stops. */
const LONG = process.env['SCEPKIT_FUZZ_RUNS'] !== undefined;
const budgetMs = LONG ? 0 : 50_000;
/** However slow the machine, at least this many cases. */
const MIN_CASES = Math.min(RUNS, 200);
/** The server's V8 old-space cap: its steady state is well under half of this. */
const HEAP_MIB = 160;
/** Allowed RSS growth from the end of the warm-up quarter to the end of the run. */
const RSS_GROWTH_MIB = 48;

describe('HTTP fuzz: scepkit serve answers 400 or a signed CertRep, never 5xx', () => {
  let s: ScepkitProcess;
  let scepUrl: string;
  let inputs: FuzzInputs;

  before(async () => {
    s = await spawnScepkit(
      tempDir('fuzz'),
      { server: NO_RATE_LIMIT, endpoints: [{ path: '/scep', challenge: { type: 'static' } }] },
      { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` },
    );
    scepUrl = `${s.url}/scep`;
    const challenge = readFileSync(join(s.dataDir, 'secrets', 'static-challenge'), 'utf8').trim();
    const ca = await getCaCert(scepUrl);
    const devices = await Promise.all(
      [0, 1, 2].map((i) => makeDevice({ subject: `CN=fuzz-${i},O=scepkit`, challenge })),
    );
    const requests = await Promise.all(devices.map((d) => prepare(ca, d)));
    // The unmutated requests are valid: the server issues.
    for (const r of requests) {
      const ans = await pkiOperation(scepUrl, r.der);
      assert.equal(ans.status, 200);
      assert.equal((await readReply(ca, r, ans.body)).status, 'SUCCESS');
    }
    inputs = { ca, requests, captures: captureRequests() };
    assert.ok(inputs.captures.length >= 5, 'real client captures found');
  });
  after(async () => {
    await s?.stop();
  });

  it(
    `ok/mutated-and-random-requests-by-POST-and-GET`,
    { timeout: LONG ? Infinity : budgetMs + 30_000 },
    async () => {
      const tally = newTally();
      const rssStart = rssKib(s.pid);
      let rssWarm: number | undefined;
      const started = Date.now();
      const warmAfter = (ms: number, cases: number) =>
        cases >= RUNS / 4 || (budgetMs > 0 && ms >= budgetMs / 4);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fuzzCaseArb(inputs), { minLength: PARALLEL, maxLength: PARALLEL }),
          async (cases) => {
            await Promise.all(cases.map((c) => checkCase(scepUrl, inputs.ca, c, tally)));
            if (rssWarm === undefined && warmAfter(Date.now() - started, tally.cases)) {
              rssWarm = rssKib(s.pid);
            }
          },
        ),
        {
          numRuns: Math.ceil(RUNS / PARALLEL),
          seed,
          endOnFailure: true,
          ...(budgetMs ? { interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false } : {}),
        },
      );
      const rssEnd = rssKib(s.pid);
      const mib = (kib: number) => (kib / 1024).toFixed(0);
      const secs = (Date.now() - started) / 1000;
      console.log(
        `http-fuzz: ${tally.cases} cases in ${secs.toFixed(0)} s (seed ${seed}): ${JSON.stringify(tally.byDepth)}; ` +
          `400=${tally.http400} FAILURE=${tally.failure} SUCCESS=${tally.success} PENDING=${tally.pending}; ` +
          `server RSS ${mib(rssStart)} -> ${mib(rssWarm ?? rssEnd)} (warm) -> ${mib(rssEnd)} MiB, heap cap ${HEAP_MIB} MiB`,
      );
      assert.ok(!s.exited(), 'the server is still running (a leak past the heap cap kills it)');
      assert.ok(tally.cases >= MIN_CASES, `only ${tally.cases} cases in ${secs.toFixed(0)} s`);
      assert.ok(tally.failure > 0 && tally.http400 > 0, 'both refusal paths were reached');
      assert.ok(rssWarm !== undefined, 'the warm-up quarter ended');
      assert.ok(
        rssEnd - rssWarm < RSS_GROWTH_MIB * 1024,
        `RSS grew by ${mib(rssEnd - rssWarm)} MiB after the warm-up`,
      );
    },
  );

  it('ok/random-query-strings-never-5xx', { timeout: LONG ? Infinity : 40_000 }, async () => {
    const real = `operation=PKIOperation&message=${encodeURIComponent(
      Buffer.from(inputs.requests[0]!.der).toString('base64'),
    )}`;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        codecArbitraries.queryArb([real, 'operation=GetCACaps', 'operation=GetCACert&message=ca']),
        async (q) => {
          let res;
          try {
            res = await httpRequest(`${scepUrl}?${q}`, { timeoutMs: 10_000 });
          } catch (err) {
            // Node's client refuses to send some strings (e.g. control characters): nothing reached the server.
            if (err instanceof TypeError) return;
            throw err;
          }
          n++;
          assert.ok(res.status < 500, `HTTP ${res.status} for ?${q}`);
        },
      ),
      {
        numRuns: Math.ceil(RUNS / 10),
        seed,
        ...(budgetMs ? { interruptAfterTimeLimit: 15_000, markInterruptAsFailure: false } : {}),
      },
    );
    console.log(`http-fuzz: ${n} query strings`);
  });
});
