import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeFixture, sharedDeviceKeys, type Fixture } from '../testdata/fixture.js';
import { runDemo } from './demo.js';
import { startTestScepServer, type TestScepServer } from './testdata/scep-server.js';

describe('runDemo', () => {
  let f: Fixture;
  let server: TestScepServer;

  before(async () => {
    f = await makeFixture();
    server = await startTestScepServer({
      emulator: f.emu,
      tenant: f.seed.tenant.domain,
      clientId: f.seed.app.clientId,
      clientSecret: f.seed.clientSecret,
    });
  });
  after(() => server.close());

  it('ok/four-platforms: each step printed with its outcome, and the certificates issued', async () => {
    const lines: string[] = [];
    const results = await runDemo({
      emulator: f.emu,
      scepUrl: server.url,
      trustCaPem: server.rootPem,
      out: (line) => lines.push(line),
      device: { generateKeys: () => sharedDeviceKeys(2048) },
    });
    assert.deepEqual(
      results.map((r) => [r.platform, r.ok, r.error]),
      [
        ['windows', true, undefined],
        ['ios', true, undefined],
        ['macos', true, undefined],
        ['android', true, undefined],
      ],
    );
    // Windows also gets the user certificate of its primary user's profile.
    assert.deepEqual(
      results.map((r) => r.certificates.length),
      [2, 1, 1, 1],
    );
    const text = lines.join('\n');
    for (const step of ['check-in', 'GetCACaps', 'GetCACert', 'PKIOperation', 'validation', 'notification'])
      assert.match(text, new RegExp(`ok +${step} `));
    assert.match(
      text,
      /\[GET http:\/\/127\.0\.0\.1:\d+\/scep\/pkiclient\.exe\?operation=GetCACaps&message=default -> 200 text\/plain\]/,
    );
    assert.match(
      text,
      /\[GET http:\/\/127\.0\.0\.1:\d+\/scep\?operation=PKIOperation -> 200 application\/x-pki-message\]/,
    );
    for (const r of results) {
      for (const c of r.certificates) {
        assert.ok(text.includes(`serial ${c.serialNumber}  thumbprint ${c.thumbprint}`));
        const [status] = f.emu.deploymentStatuses({ deviceId: r.deviceId, profileId: c.profileId });
        assert.equal(status?.certificateThumbprint, c.thumbprint);
      }
    }
    // The challenge is never printed.
    const challenges = [...f.emu.requestsOf('validateRequest')].length;
    assert.ok(challenges >= 5);
    assert.ok(!lines.some((l) => l.length > 400));
  });

  it('fail/windows-without-ra: the device is reported and the demo goes on', async () => {
    const caOnly = await startTestScepServer({
      emulator: f.emu,
      tenant: f.seed.tenant.domain,
      clientId: f.seed.app.clientId,
      clientSecret: f.seed.clientSecret,
      mode: 'ca',
    });
    try {
      const lines: string[] = [];
      const results = await runDemo({
        emulator: f.emu,
        scepUrl: caOnly.url,
        trustCaPem: caOnly.rootPem,
        out: (line) => lines.push(line),
        device: { generateKeys: () => sharedDeviceKeys(2048) },
      });
      assert.deepEqual(
        results.map((r) => [r.platform, r.ok]),
        [
          ['windows', false],
          ['ios', true],
          ['macos', true],
          ['android', true],
        ],
      );
      assert.ok(lines.some((l) => l.includes('FAIL') && l.includes('no RA certificate')));
    } finally {
      await caOnly.close();
    }
  });
});
