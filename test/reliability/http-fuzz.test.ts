/*
 * HTTP fuzz against `scepkit serve` (a separate process): mutated real requests (ours and real client captures,
 * at the outer, envelope and CSR depth), random bytes and random query strings, by POST and GET.
 * Every answer is 400 or a signed CertRep (FAILURE unless the request is still authentic); never 5xx, never a hang;
 * the server's RSS stays bounded. `SCEPKIT_FUZZ_RUNS=100000 npm run fuzz` runs the same properties for longer.
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

describe('HTTP fuzz: scepkit serve answers 400 or a signed CertRep, never 5xx', () => {
  let s: ScepkitProcess;
  let scepUrl: string;
  let inputs: FuzzInputs;

  before(async () => {
    s = await spawnScepkit(tempDir('fuzz'), {
      server: NO_RATE_LIMIT,
      endpoints: [{ path: '/scep', challenge: { type: 'static' } }],
    });
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
      assert.equal(readReply(ca, r, ans.body).status, 'SUCCESS');
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
      const rssBefore = rssKib(s.pid);
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(
          fc.array(fuzzCaseArb(inputs), { minLength: PARALLEL, maxLength: PARALLEL }),
          async (cases) => {
            await Promise.all(cases.map((c) => checkCase(scepUrl, inputs.ca, c, tally)));
          },
        ),
        {
          numRuns: Math.ceil(RUNS / PARALLEL),
          seed,
          endOnFailure: true,
          ...(budgetMs ? { interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false } : {}),
        },
      );
      const rssAfter = rssKib(s.pid);
      const secs = (Date.now() - started) / 1000;
      console.log(
        `http-fuzz: ${tally.cases} cases in ${secs.toFixed(0)} s (seed ${seed}): ${JSON.stringify(tally.byDepth)}; ` +
          `400=${tally.http400} FAILURE=${tally.failure} SUCCESS=${tally.success} PENDING=${tally.pending}; ` +
          `server RSS ${(rssBefore / 1024).toFixed(0)} -> ${(rssAfter / 1024).toFixed(0)} MiB`,
      );
      assert.ok(tally.cases >= MIN_CASES, `only ${tally.cases} cases in ${secs.toFixed(0)} s`);
      assert.ok(tally.failure > 0 && tally.http400 > 0, 'both refusal paths were reached');
      assert.ok(
        rssAfter - rssBefore < 100 * 1024,
        `RSS grew by ${((rssAfter - rssBefore) / 1024).toFixed(0)} MiB`,
      );
      assert.ok(!s.exited(), 'the server is still running');
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
