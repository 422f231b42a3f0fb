/*
 * packaging/systemd/scepkit.service: the hardening the guide promises is there, and `systemd-analyze verify`
 * accepts the unit where systemd-analyze exists (it needs no running systemd).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO, have } from '../support/tools.js';

const UNIT = join(REPO, 'packaging', 'systemd', 'scepkit.service');

describe('packaging/systemd', () => {
  const unit = readFileSync(UNIT, 'utf8');

  it('ok/unit-directives', () => {
    for (const line of [
      'User=scepkit',
      'Group=scepkit',
      'DynamicUser=no',
      'StateDirectory=scepkit',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'ReadWritePaths=/var/lib/scepkit',
      'EnvironmentFile=-/etc/scepkit/scepkit.env',
      'Environment=SCEPKIT_DATA_DIR=/var/lib/scepkit',
    ]) {
      assert.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line);
    }
    assert.match(unit, /^ExecStart=\/usr\/bin\/env scepkit serve( |$)/m);
  });

  it('ok/env-example-names-only-known-variables', () => {
    const env = readFileSync(join(REPO, 'packaging', 'systemd', 'scepkit.env.example'), 'utf8');
    const config = readFileSync(join(REPO, 'docs', 'configuration.md'), 'utf8');
    const names = [...env.matchAll(/^#?(SCEPKIT_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    assert.ok(names.length > 5);
    for (const n of names) assert.ok(config.includes(n), `${n} is not in docs/configuration.md`);
  });

  it('ok/systemd-analyze-verify', { skip: have('systemd-analyze') ? false : 'no systemd-analyze' }, () => {
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    // verify prints warnings for anything it dislikes, even with status 0.
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', r.stderr);
  });
});
