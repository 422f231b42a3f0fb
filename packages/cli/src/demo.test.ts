import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const run = promisify(execFile);

describe('scepkit demo and scepkit start (the embedded defaults)', () => {
  it('ok/demo-enrolls-windows-ios-macos-android-through-intune', { timeout: 180_000 }, async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'demo'], { timeout: 170_000 });
    for (const platform of ['windows', 'ios', 'macos', 'android']) {
      assert.match(stdout, new RegExp(`== ${platform} device`));
    }
    assert.match(stdout, /4 of 4 devices enrolled/);
    assert.doesNotMatch(stdout, /^\s+FAIL/m);
    // Each device went through validation and the success notification, and Windows used its own path.
    assert.equal((stdout.match(/ok {3}validation/g) ?? []).length >= 4, true);
    assert.equal((stdout.match(/ok {3}notification deployment succeeded/g) ?? []).length >= 4, true);
    assert.match(stdout, /\/scep\/intune\/pkiclient\.exe\?operation=PKIOperation/);
  });

  it('ok/start-creates-the-CA-runs-the-emulator-and-doctor-passes', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-start-'));
    const child = spawn(process.execPath, [MAIN, 'start'], {
      env: { ...process.env, SCEPKIT_DATA_DIR: dir, SCEPKIT_PORT: '0', SCEPKIT_CA_KEY_TYPE: 'rsa-2048' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`start did not come up:\n${out}`)), 100_000);
        const check = () => {
          const m = /scepkit listening on (\S+)/.exec(out);
          if (m?.[1] && out.includes('npx scepkit demo')) {
            clearTimeout(t);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', check);
      });
      assert.match(out, /SCEP URL: .*\/scep\/intune +\(challenge: intune\)/);
      assert.match(out, /CA SHA-256 fingerprint: [0-9a-f]{64}/);
      // The doctor ran against the emulator at start-up and /healthz reports it.
      let health: { ok?: boolean; intune?: { ok?: boolean } } = {};
      for (let i = 0; i < 50 && health.intune?.ok === undefined; i++) {
        health = (await (await fetch(`${url}/healthz`)).json()) as typeof health;
        if (health.intune?.ok === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(health.intune?.ok, true, JSON.stringify(health));
      // The saved config does not point at the ephemeral emulator.
      assert.doesNotMatch(await readFile(join(dir, 'scepkit.json'), 'utf8'), /"intune"/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
