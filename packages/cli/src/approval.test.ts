import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { enroll } from './client/enroll.js';
import { CliError } from './errors.js';
import { loadConfig } from './config/load-config.js';
import { serve } from './commands/serve-command.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const run = promisify(execFile);

describe('manual approval: PENDING until an admin approves or rejects', () => {
  it('ok/pending-then-approve-issues; pending-then-reject-fails', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-approval-'));
    await writeFile(
      join(dir, 'scepkit.json'),
      JSON.stringify({
        dataDir: '.',
        ca: { keyType: 'rsa-2048' },
        log: { level: 'silent' },
        profiles: { default: {}, gated: { manualApproval: true } },
        endpoints: [{ path: '/scep', profile: 'gated', challenge: { type: 'static' } }],
      }),
    );
    const env = { ...process.env, SCEPKIT_DATA_DIR: dir };
    const cli = (...a: string[]) => run(process.execPath, [MAIN, ...a], { env, timeout: 60_000 });
    const { config } = await loadConfig(join(dir, 'scepkit.json'), { SCEPKIT_PORT: '0' });
    const s = await serve(config, {
      init: true,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
    });
    try {
      const challenge = (await readFile(join(dir, 'secrets/static-challenge'), 'utf8')).trim();
      const pendingTx = async (): Promise<string> => {
        for (let i = 0; i < 100; i++) {
          const l = await cli('requests', 'list', '--state', 'pending');
          const tx = l.stdout
            .split('\n')
            .find((x) => x.startsWith('scep '))
            ?.split(/\s+/)[1];
          if (tx) return tx;
          await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error('no pending request appeared');
      };
      const progress: string[] = [];
      const approved = enroll({
        url: `${s.url}/scep`,
        challenge,
        subject: 'CN=gated-1',
        pollIntervalMs: 300,
        progress: (l) => progress.push(l),
      });
      const tx1 = await pendingTx();
      assert.match((await cli('requests', 'approve', '/scep', tx1)).stdout, /approved/);
      const r = await approved;
      assert.ok(r.certificate.length > 0);
      assert.ok(
        progress.some((l) => l.includes('PENDING')),
        'the client saw PENDING and polled',
      );

      const rejected = enroll({
        url: `${s.url}/scep`,
        challenge,
        subject: 'CN=gated-2',
        pollIntervalMs: 300,
      });
      const outcome = rejected.then(
        () => 'issued',
        (e: unknown) => (e instanceof CliError ? e.message : String(e)),
      );
      const tx2 = await pendingTx();
      assert.match(
        (await cli('requests', 'reject', '/scep', tx2, '--reason', 'unknown device')).stdout,
        /rejected/,
      );
      assert.match(await outcome, /badRequest/);
    } finally {
      await s.close();
    }
  });
});
