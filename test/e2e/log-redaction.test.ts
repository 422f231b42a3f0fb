// Runs the whole flow (Intune validation, notifications, doctor, static challenges, refusals, four simulated
// platforms) with scepkit logging at trace level, and checks that no challenge, client secret, token, key
// passphrase or private key appears in anything the process printed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CHILD = fileURLToPath(new URL('./redaction-child.js', import.meta.url));
const run = promisify(execFile);

describe('log redaction over the whole flow', () => {
  it('ok/no-secret-in-any-log-line-at-trace-level', { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-redaction-'));
    const secretsFile = join(dir, 'secrets.json');
    const { stdout, stderr } = await run(process.execPath, [CHILD, secretsFile, join(dir, 'data')], {
      timeout: 230_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const output = `${stdout}\n${stderr}`;
    const secrets = JSON.parse(await readFile(secretsFile, 'utf8')) as {
      challenges: string[];
      clientSecret: string;
      passphrase: string;
    };
    // The flow really ran and logged at trace level.
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length >= 20, `expected many log lines, got ${lines.length}`);
    assert.ok(lines.some((l) => l.includes('"op":"PKIOperation"') && l.includes('"pkiStatus":"SUCCESS"')));
    assert.ok(lines.some((l) => l.includes('"pkiStatus":"FAILURE"')));
    // The Intune client's own lines (calls, activity ids, codes) are in the same log.
    const intune = lines.filter((l) => l.includes('"component":"intune"'));
    assert.ok(
      intune.some((l) => l.includes('"activityId"') && l.includes('succeeded')),
      'Intune client lines',
    );
    for (const c of secrets.challenges) {
      assert.ok(c.length >= 16);
      // Any 24-character piece of a challenge (Intune's are ~6.5 kB of base64).
      for (let i = 0; i + 24 <= c.length; i += 97) {
        assert.ok(!output.includes(c.slice(i, i + 24)), 'a challenge appears in the output');
      }
    }
    assert.ok(!output.includes(secrets.clientSecret), 'the Entra client secret appears in the output');
    assert.ok(!output.includes(secrets.passphrase), 'the key passphrase appears in the output');
    assert.doesNotMatch(output, /PRIVATE KEY/);
    // JWTs (Entra access tokens and client assertions) start with a base64url JSON header.
    assert.doesNotMatch(output, /eyJ[A-Za-z0-9_-]{8,}\.eyJ/);
    assert.doesNotMatch(output, /Bearer [A-Za-z0-9._-]{20,}/);
  });
});
