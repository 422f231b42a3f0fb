import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { httpsCall } from './testdata/https.js';

describe('scepkit-intune-emulator bin', () => {
  it('ok/prints-the-intune-config-and-serves-it', async () => {
    const bin = fileURLToPath(new URL('./cli.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--port', '0', '--tenant', 'woodgrove'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const out = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          if (text.includes('-----END CERTIFICATE-----')) resolve(text);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${text}`)));
      });
      const json = JSON.parse(out.slice(0, out.indexOf('\n# Trust'))) as {
        url: string;
        intuneConfig: { tenant: string; clientId: string; clientSecret: string };
        devices: Record<string, string>;
      };
      assert.equal(json.intuneConfig.tenant, 'woodgrove.onmicrosoft.com');
      assert.deepEqual(Object.keys(json.devices).sort(), ['android', 'ios', 'macos', 'windows']);
      const ca = out.slice(out.indexOf('-----BEGIN CERTIFICATE-----'));
      const token = await httpsCall(`${json.url}/${json.intuneConfig.tenant}/oauth2/v2.0/token`, {
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: json.intuneConfig.clientId,
          client_secret: json.intuneConfig.clientSecret,
          scope: 'https://api.manage.microsoft.com//.default',
        }).toString(),
      });
      assert.equal(token.status, 200);
      assert.equal(token.json['token_type'], 'Bearer');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
