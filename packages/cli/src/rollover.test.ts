import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseCaps, parseCertsOnly, parseSignedData, verifySignedData } from '@scepkit/scep';
import { loadConfig } from './config/load-config.js';
import { serve } from './commands/serve-command.js';
import { fromPemAll } from './pem.js';

const run = promisify(execFile);

describe('CA rollover: GetNextCACert', () => {
  it('ok/next-CA-advertised-and-served-signed-by-the-current-RA', { timeout: 90_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-rollover-'));
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'next.key'),
      '-out',
      join(dir, 'next.pem'),
      '-days',
      '3650',
      '-subj',
      '/CN=Next SCEP CA',
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await writeFile(
      join(dir, 'scepkit.json'),
      JSON.stringify({
        dataDir: '.',
        ca: { keyType: 'rsa-2048', nextCaChainFile: join(dir, 'next.pem') },
        log: { level: 'silent' },
      }),
    );
    const { config } = await loadConfig(join(dir, 'scepkit.json'), { SCEPKIT_PORT: '0' });
    const s = await serve(config, {
      init: true,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
    });
    try {
      const caps = parseCaps(await (await fetch(`${s.url}/scep?operation=GetCACaps`)).text()).caps;
      assert.ok(caps.has('GetNextCACert'));
      const r = await fetch(`${s.url}/scep?operation=GetNextCACert`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/x-x509-next-ca-cert');
      const parsed = parseSignedData(new Uint8Array(await r.arrayBuffer()));
      const ra = fromPemAll(await readFile(join(dir, 'ca/ra.cert.pem'), 'utf8'), 'CERTIFICATE');
      const signer = verifySignedData(parsed, [...parsed.certificates, ...ra]);
      assert.deepEqual(new Uint8Array(signer.signerCertificate.der), ra[0]);
      const next = fromPemAll(await readFile(join(dir, 'next.pem'), 'utf8'), 'CERTIFICATE')[0]!;
      assert.deepEqual(parseCertsOnly(parsed.content!).certificates[0], next);
    } finally {
      await s.close();
    }
  });
});
