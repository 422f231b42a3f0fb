import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from './load-config.js';
import { CliError } from '../errors.js';

describe('config', () => {
  it('ok/defaults-on-an-empty-object', () => {
    const c = parseConfig({});
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.store.type, 'sqlite');
    assert.deepEqual(c.endpoints, [{ path: '/scep', profile: 'default', challenge: { type: 'static' } }]);
    assert.equal(c.ca.keyType, 'rsa-3072');
  });

  it('fail/names-the-bad-key', () => {
    assert.throws(
      () => parseConfig({ server: { port: 'eighty' } }),
      (e: unknown) => e instanceof CliError && /server\.port/.test(e.message),
    );
    assert.throws(
      () => parseConfig({ endpoints: [{ path: '/scep', profile: 'nope' }] }),
      (e: unknown) =>
        e instanceof CliError && /endpoints\.0\.profile/.test(e.message) && /nope/.test(e.message),
    );
    assert.throws(
      () => parseConfig({ server: { prot: 1 } }),
      (e: unknown) => e instanceof CliError && /server/.test(e.message) && /prot/.test(e.message),
    );
    assert.throws(
      () => parseConfig({ endpoints: [{ path: '/scep/intune', challenge: { type: 'intune' } }] }),
      (e: unknown) => e instanceof CliError && /intune/.test(e.message),
    );
  });

  it('ok/file-plus-env-overrides', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scepkit-config-'));
    const file = join(dir, 'scepkit.json');
    await writeFile(file, JSON.stringify({ server: { port: 9000 }, log: { level: 'warn' } }));
    const { config } = await loadConfig(file, { SCEPKIT_PORT: '9443', SCEPKIT_DATA_DIR: dir });
    assert.equal(config.server.port, 9443);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.dataDir, dir);
  });

  it('fail/bad-env-value-names-the-variable', async () => {
    await assert.rejects(
      loadConfig(undefined, { SCEPKIT_PORT: 'x', SCEPKIT_DATA_DIR: '/nonexistent-scepkit' }),
      (e: unknown) => e instanceof CliError && /SCEPKIT_PORT/.test(e.message),
    );
  });

  it('fail/explicit-file-missing', async () => {
    await assert.rejects(
      loadConfig('/nonexistent-scepkit/x.json', {}),
      (e: unknown) => e instanceof CliError && /cannot read/.test(e.message),
    );
  });
});
