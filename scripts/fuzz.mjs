// The long fuzz run: `npm run fuzz` (SCEPKIT_FUZZ_RUNS cases, default 100000; SCEPKIT_FUZZ_SEED to replay).
//  1. the codec properties of packages/scep (src/testing/fuzz.ts): random, mutated and re-signed DER, GET queries;
//  2. the HTTP properties of test/reliability/http-fuzz.test.ts against a running `scepkit serve`.
// Prints the number of cases; exits non-zero with the seed and counterexample on the first failure.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const runs = Number(process.env.SCEPKIT_FUZZ_RUNS ?? 100_000);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('SCEPKIT_FUZZ_RUNS must be a positive integer');
  process.exit(2);
}
const seed = process.env.SCEPKIT_FUZZ_SEED ?? String(Date.now());
const env = { ...process.env, SCEPKIT_FUZZ_RUNS: String(runs), SCEPKIT_FUZZ_SEED: seed };
const step = (name, args) => {
  console.log(`\n== ${name}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  console.log(`== ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (r.status !== 0) process.exit(r.status ?? 1);
};

console.log(`fuzz: ${runs} cases per property, seed ${seed}`);
const codec = 'packages/scep/dist/testing/fuzz.js';
if (existsSync(codec)) step('codec (packages/scep)', [codec, String(runs), seed]);
else console.log(`(no ${codec}: codec properties skipped)`);
step('HTTP (scepkit serve)', ['--test', '--test-reporter=spec', 'test/dist/reliability/http-fuzz.test.js']);
console.log(`\nfuzz: done, ${runs} cases per property (codec: 4 properties; HTTP: requests + query strings)`);
