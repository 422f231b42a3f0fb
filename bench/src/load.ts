/*
 * Load generator CLI, used for servers that must run in another network namespace (micromdm scepserver):
 *   node bench/dist/load.js --server micromdm --url http://127.0.0.1:18080/scep --pid N --challenge C \
 *     --concurrency 1,2,8,32 --count 2000 [--http-client raw|node] --out results.json
 */
import { writeFileSync } from 'node:fs';
import { Args } from './args.js';
import { keyPool, runSeries, useHttpClient } from './load-generator.js';

const args = new Args(process.argv.slice(2));
useHttpClient(args.string('http-client', 'raw'));
const results = await runSeries({
  server: args.string('server'),
  targets: [{ url: args.string('url'), pid: args.number('pid', NaN) }],
  challenge: args.string('challenge'),
  concurrencies: args.numbers('concurrency', [1, 2, 8, 32]),
  count: args.number('count', 2000),
  maxSeconds: args.number('max-seconds', 300),
  warmup: args.number('warmup', 20),
  pool: await keyPool(args.number('keys', 64)),
  label: args.string('label', ''),
  log: (line) => process.stderr.write(`${line}\n`),
});
const out = JSON.stringify(results, null, 2);
if (args.string('out', '') !== '') writeFileSync(args.string('out'), out);
else process.stdout.write(`${out}\n`);
