/*
 * Reverse interop: `scepkit enroll` against micromdm's scepserver (Debian package `scep`).
 * scepserver has no bind-address flag, so it runs in a private network namespace with only loopback
 * (`unshare --net`, `ip link set lo up`), together with the client.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCEPKIT, openssl, requireTools, tempDir } from '../support/tools.js';

describe('scepkit enroll -> micromdm scepserver (private network namespace)', () => {
  const skip = requireTools('scepserver', 'unshare', 'ip', 'openssl');
  it('ok/PKCSReq-then-RenewalReq', { skip, timeout: 120_000 }, () => {
    const dir = tempDir('mm-server');
    writeFileSync(join(dir, 'challenge'), 'secret123\n', { mode: 0o600 });
    const script = `
      set -e
      cd ${dir}
      ip link set lo up
      scepserver ca -init -depot depot -keySize 2048 >/dev/null 2>&1
      scepserver -depot depot -port 18080 -challenge secret123 -allowrenew 0 > server.log 2>&1 &
      for i in $(seq 1 50); do
        if node -e "require('net').connect(18080,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"; then break; fi
        sleep 0.1
      done
      node ${SCEPKIT} enroll -u http://127.0.0.1:18080/scep --challenge-file challenge \\
        -s "CN=reverse-interop,O=scepkit" --dns reverse.example.test \\
        --ca-fingerprint $(openssl x509 -in depot/ca.pem -outform DER | sha256sum | cut -d' ' -f1) \\
        --out-key k.pem --out-cert c.pem --out-chain chain.pem
      node ${SCEPKIT} enroll -u http://127.0.0.1:18080/scep --challenge-file challenge \\
        -s "CN=reverse-interop,O=scepkit" --renew-cert c.pem --renew-key k.pem \\
        --out-key k2.pem --out-cert c2.pem --out-chain chain2.pem
      kill %1
    `;
    const r = spawnSync('unshare', ['--net', 'bash', '-c', script], { encoding: 'utf8', timeout: 100_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /PKCSReq \(sha256, aes-256-cbc, POST\)/);
    assert.match(r.stderr, /RenewalReq/);
    const ca = join(dir, 'depot/ca.pem');
    for (const cert of ['c.pem', 'c2.pem']) {
      assert.match(openssl(['verify', '-CAfile', ca, join(dir, cert)]), /: OK/);
      const text = openssl(['x509', '-in', join(dir, cert), '-noout', '-subject']);
      assert.match(text, /CN ?= ?reverse-interop/);
    }
    // The renewed certificate has a new key and a new serial.
    const pub = (f: string) => openssl(['x509', '-in', join(dir, f), '-noout', '-pubkey']);
    assert.notEqual(pub('c.pem'), pub('c2.pem'));
    assert.match(readFileSync(join(dir, 'k.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  });
});
