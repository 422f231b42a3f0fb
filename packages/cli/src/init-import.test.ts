import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { enroll } from './client/enroll.js';
import { loadConfig } from './config/load-config.js';
import { serve } from './commands/serve-command.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const run = promisify(execFile);

describe('scepkit init --import-* (run an existing CA as a subordinate)', () => {
  it(
    'ok/import-a-subordinate-from-PEM-and-from-PKCS12-then-enroll-through-the-chain',
    { timeout: 120_000 },
    async () => {
      const w = await mkdtemp(join(tmpdir(), 'scepkit-import-'));
      const o = (...a: string[]) => run('openssl', a, { cwd: w });
      // A corporate root and an issuing sub-CA, made with openssl.
      await o(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'root.key',
        '-out',
        'root.pem',
        '-days',
        '3650',
        '-subj',
        '/CN=Corp Root',
        '-addext',
        'basicConstraints=critical,CA:true',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      );
      await o(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'sub.key',
        '-out',
        'sub.csr',
        '-subj',
        '/CN=Corp SCEP Issuing CA',
      );
      await writeFile(
        join(w, 'ext.cnf'),
        'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
      );
      await o(
        'x509',
        '-req',
        '-in',
        'sub.csr',
        '-CA',
        'root.pem',
        '-CAkey',
        'root.key',
        '-CAcreateserial',
        '-out',
        'sub.pem',
        '-days',
        '1825',
        '-extfile',
        'ext.cnf',
      );
      await o(
        'pkcs12',
        '-export',
        '-inkey',
        'sub.key',
        '-in',
        'sub.pem',
        '-certfile',
        'root.pem',
        '-out',
        'sub.p12',
        '-passout',
        'pass:p12pass',
      );

      for (const kind of ['pem', 'p12'] as const) {
        const dir = join(w, `data-${kind}`);
        const env = { ...process.env, SCEPKIT_DATA_DIR: dir, SCEPKIT_IMPORT_PASSPHRASE: 'p12pass' };
        const args =
          kind === 'pem'
            ? [
                '--import-cert',
                join(w, 'sub.pem'),
                '--import-key',
                join(w, 'sub.key'),
                '--import-chain',
                join(w, 'root.pem'),
              ]
            : ['--import-p12', join(w, 'sub.p12')];
        const r = await run(process.execPath, [MAIN, 'init', ...args], { env });
        assert.match(r.stdout, /imported a subordinate CA with 1 issuer/);
        // The key is stored encrypted again, never in clear.
        assert.match(await readFile(join(dir, 'ca/ca.key.pem'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
        const { config } = await loadConfig(undefined, {
          SCEPKIT_DATA_DIR: dir,
          SCEPKIT_PORT: '0',
          SCEPKIT_LOG_LEVEL: 'silent',
        });
        const s = await serve(config, { out: { write: () => true } as unknown as NodeJS.WritableStream });
        try {
          const challenge = (await readFile(join(dir, 'secrets/static-challenge'), 'utf8')).trim();
          const e = await enroll({ url: `${s.url}/scep`, challenge, subject: `CN=leaf-${kind}` });
          const leaf = join(w, `leaf-${kind}.pem`);
          await writeFile(
            leaf,
            `-----BEGIN CERTIFICATE-----\n${Buffer.from(e.certificate).toString('base64')}\n-----END CERTIFICATE-----\n`,
          );
          const v = await run('openssl', [
            'verify',
            '-CAfile',
            join(w, 'root.pem'),
            '-untrusted',
            join(w, 'sub.pem'),
            leaf,
          ]);
          assert.match(v.stdout, /: OK/);
          // GetCACert carries the whole chain up to the corporate root (Windows pins the root).
          const roots = e.chain.map((c) => Buffer.from(c).toString('base64'));
          const rootB64 = (await readFile(join(w, 'root.pem'), 'utf8'))
            .split('-----')[2]!
            .replace(/\s+/g, '');
          assert.ok(roots.includes(rootB64), 'the root is in the chain given to clients');
        } finally {
          await s.close();
        }
      }
    },
  );
});
