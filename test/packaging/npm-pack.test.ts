/*
 * The published form of scepkit: `npm pack` every workspace package, install the CLI tarball with its workspace
 * tarballs into an empty directory (third-party packages from the npm registry; better-sqlite3 and pkcs11js build
 * their native addons with node-gyp, because prebuilt binaries cannot be downloaded here), then run the installed
 * `scepkit`: --version, init, and serve answering GetCACaps on 127.0.0.1. docs/guide/install.md documents the same
 * steps. Slow (the native build takes ~3 CPU-minutes), so it runs only in CI or with SCEPKIT_TEST_PACK=1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, tempDir } from '../support/tools.js';

const INSTALL_TIMEOUT_MS = 15 * 60_000;
/** Packages whose install scripts must run (native addons); what a consumer lists in `allowScripts`. */
const NATIVE = ['better-sqlite3', 'pkcs11js'] as const;

const skip =
  process.env['CI'] || process.env['SCEPKIT_TEST_PACK']
    ? false
    : 'slow (npm install builds better-sqlite3 from source): runs in CI or with SCEPKIT_TEST_PACK=1';

/** The environment without npm's own `npm_*` variables (set when run under `npm test`; they would leak the repo's config). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, npm_config_update_notifier: 'false', npm_config_loglevel: 'warn', ...extra };
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function exec(
  cmd: string,
  args: string[],
  o: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: cleanEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function ok(r: Result, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

interface PackEntry {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

describe('packaging: npm pack + install into an empty directory', { skip, timeout: 20 * 60_000 }, () => {
  const dir = tempDir('pack');
  const tarballs = join(dir, 'tarballs');
  const app = join(dir, 'app');
  const data = join(dir, 'data');
  const bin = join(app, 'node_modules', '.bin', 'scepkit');
  mkdirSync(tarballs);
  mkdirSync(app);
  after(() => rmSync(dir, { recursive: true, force: true }));

  const workspaces = (
    JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] }
  ).workspaces;
  const cliVersion = (
    JSON.parse(readFileSync(join(REPO, 'packages/cli/package.json'), 'utf8')) as { version: string }
  ).version;

  it('ok/npm-pack-workspaces: one tarball per package, dist without tests or test data', async () => {
    const out = ok(
      await exec('npm', ['pack', '--workspaces', '--pack-destination', tarballs, '--json'], {
        cwd: REPO,
        timeoutMs: 120_000,
      }),
      'npm pack',
    );
    const packed = JSON.parse(out) as PackEntry[];
    assert.equal(packed.length, workspaces.length);
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      assert.ok(
        paths.includes('dist/index.js'),
        `${p.name}: dist/index.js missing (run npm run build first)`,
      );
      const leaked = paths.filter((f) => /\.test\.|(^|\/)testdata\//.test(f));
      assert.deepEqual(leaked, [], `${p.name} ships test files`);
      assert.ok(existsSync(join(tarballs, p.filename)), p.filename);
    }
    const server = packed.find((p) => p.name === '@scepkit/server');
    for (const f of ['admin-ui/index.html', 'admin-ui/app.js', 'admin-ui/style.css']) {
      assert.ok(
        server?.files.some((x) => x.path === f),
        `the server tarball has the admin console's ${f}`,
      );
    }
    const cli = packed.find((p) => p.name === '@scepkit/cli');
    for (const f of ['dist/bin.cjs', 'dist/thread-pool.cjs', 'dist/main.js']) {
      assert.ok(
        cli?.files.some((x) => x.path === f),
        `the CLI tarball has its bin's ${f}`,
      );
    }
  });

  it('ok/npm-install-tarballs: third-party packages from the registry, native addons built', async () => {
    // What a consumer writes: allowScripts approves the two native builds (npm 11.16+ warns without it, npm 12 blocks).
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'scepkit-install-test',
          private: true,
          allowScripts: Object.fromEntries(NATIVE.map((n) => [n, true])),
        },
        null,
        2,
      ),
    );
    const files = readdirSync(tarballs)
      .filter((f) => f.endsWith('.tgz'))
      .map((f) => join(tarballs, f));
    const started = Date.now();
    const r = await exec('npm', ['install', '--no-audit', '--no-fund', ...files], {
      cwd: app,
      timeoutMs: INSTALL_TIMEOUT_MS,
      env: { JOBS: 'max' }, // node-gyp: compile with every CPU
    });
    ok(r, 'npm install');
    process.stderr.write(`# npm install took ${Math.round((Date.now() - started) / 1000)} s\n`);
    assert.doesNotMatch(
      r.stderr,
      /not yet covered by allowScripts/,
      'allowScripts in package.json is honoured',
    );
    // The install scripts ran: both addons exist and load.
    assert.ok(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')));
    assert.ok(existsSync(join(app, 'node_modules/pkcs11js/build/Release/pkcs11.node')));
    ok(
      await exec(
        process.execPath,
        ['-e', "require('better-sqlite3')(':memory:').prepare('select 1').get()"],
        {
          cwd: app,
          timeoutMs: 30_000,
        },
      ),
      'loading better-sqlite3',
    );
  });

  it('ok/scepkit-version', async () => {
    const out = ok(await exec(bin, ['--version'], { cwd: app, timeoutMs: 30_000 }), 'scepkit --version');
    assert.equal(out.trim(), cliVersion);
  });

  it('ok/scepkit-init: CA, RA, OCSP signer and SQLite in SCEPKIT_DATA_DIR', async () => {
    const out = ok(
      await exec(bin, ['init'], { cwd: app, timeoutMs: 120_000, env: { SCEPKIT_DATA_DIR: data } }),
      'scepkit init',
    );
    assert.match(out, /^created: /m);
    assert.match(out, /CA SHA-256 fingerprint: [0-9a-f]{64}/);
    for (const f of ['scepkit.json', 'ca/ca.cert.pem', 'ca/ra.cert.pem', 'ca/ocsp.cert.pem']) {
      assert.ok(existsSync(join(data, f)), f);
    }
  });

  it('ok/scepkit-serve: GetCACaps and the admin console on 127.0.0.1', async () => {
    // The console: its password hash set by the installed CLI, its files and front-end libraries found in node_modules.
    const configFile = join(data, 'scepkit.json');
    writeFileSync(
      configFile,
      JSON.stringify({ ...(JSON.parse(readFileSync(configFile, 'utf8')) as object), admin: {} }, null, 2),
    );
    ok(
      await exec(bin, ['admin-password'], {
        cwd: app,
        timeoutMs: 30_000,
        env: { SCEPKIT_DATA_DIR: data, SCEPKIT_ADMIN_PASSWORD: 'packaged console password' },
      }),
      'scepkit admin-password',
    );
    const child = spawn(bin, ['serve'], {
      cwd: app,
      env: cleanEnv({ SCEPKIT_DATA_DIR: data, SCEPKIT_HOST: '127.0.0.1', SCEPKIT_PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
        const check = () => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (m?.[1]) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', check);
        child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${output}`)));
      });
      const res = await fetch(`${url}/scep?operation=GetCACaps`);
      assert.equal(res.status, 200);
      const caps = (await res.text()).split('\n');
      for (const c of ['POSTPKIOperation', 'SHA-256', 'AES', 'SCEPStandard']) assert.ok(caps.includes(c), c);
      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      for (const path of [
        '/admin',
        '/admin/ui/app.js',
        '/admin/vendor/preact.mjs',
        '/admin/vendor/htm.mjs',
      ]) {
        assert.equal((await fetch(`${url}${path}`)).status, 200, path);
      }
      const login = await fetch(`${url}/admin/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url },
        body: JSON.stringify({ password: 'packaged console password' }),
      });
      assert.equal(login.status, 200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
    }
  });
});
