// Runs every compiled test file of every package (and test/) with Node's own test runner.
// Usage: node scripts/run-tests.mjs [filter-substring...]
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = [];
for (const pkg of readdirSync('packages')) {
  const dist = join('packages', pkg, 'dist');
  if (existsSync(dist)) roots.push(dist);
}
if (existsSync('test/dist')) roots.push('test/dist');

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
roots.forEach(walk);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=2', ...selected],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
