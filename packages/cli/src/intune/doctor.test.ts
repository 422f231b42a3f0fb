import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { IntuneClient, IntuneScepValidator, type IntuneClientOptions } from '@scepkit/intune';
import { PERMISSIONS, startEmulator, type RunningEmulator } from '@scepkit/intune-emulator';
import { formatDoctor, runDoctor, type DoctorReport } from './doctor.js';

describe('runDoctor against the emulator', () => {
  let emu: RunningEmulator;
  let tenantId: string;

  before(async () => {
    emu = await startEmulator({ port: 0 });
    tenantId = emu.tenantId!;
  });
  after(async () => {
    await emu?.stop();
  });

  async function check(o: Partial<IntuneClientOptions>): Promise<DoctorReport> {
    const client = new IntuneClient({
      tenant: emu.tenantDomain!,
      clientId: emu.clientId!,
      providerNameAndVersion: 'scepkit-test',
      authorityHost: `${emu.url}/`,
      graphResourceUrl: `${emu.url}/`,
      ca: emu.tlsCaPem,
      retry: { attempts: 1 },
      ...(o.clientCertificate ? {} : { clientSecret: emu.clientSecret! }),
      ...o,
    });
    try {
      return await runDoctor(client, new IntuneScepValidator(client));
    } finally {
      await client.close();
    }
  }

  function app(permissions: ('intune' | 'graph')[], adminConsent = true) {
    const a = emu.emulator.state.addApp(tenantId, {
      displayName: 'doctor test',
      permissions: permissions.map((resource) => ({ resource, name: PERMISSIONS[resource] })),
      adminConsent,
    });
    return { clientId: a.clientId, secret: emu.emulator.state.addSecret(tenantId, a.clientId).value };
  }

  const failed = (r: DoctorReport) => r.steps.find((s) => s.status === 'fail');

  it('ok/all-steps-pass-canary-refused-as-expected', async () => {
    const r = await check({});
    assert.equal(r.ok, true, formatDoctor(r));
    assert.deepEqual(
      r.steps.map((s) => s.name),
      ['Entra ID token', 'Graph discovery', 'PKI connector discovery', 'validateRequest canary'],
    );
    assert.match(r.steps[3]!.detail, /ChallengePasswordMissing/);
  });

  it('fail/wrong-secret', async () => {
    const r = await check({ clientSecret: 'wrong' });
    assert.equal(failed(r)?.name, 'Entra ID token');
    assert.match(failed(r)?.code ?? '', /INVALID_CLIENT_SECRET AADSTS7000215/);
    assert.match(failed(r)?.detail ?? '', /client secret .* is wrong/);
    assert.deepEqual(
      r.steps.slice(1).map((s) => s.status),
      ['skipped', 'skipped', 'skipped'],
    );
  });

  it('fail/expired-secret', async () => {
    const secret = emu.emulator.state.addSecret(tenantId, emu.clientId!, -86400_000).value;
    const r = await check({ clientSecret: secret });
    assert.match(failed(r)?.code ?? '', /CLIENT_SECRET_EXPIRED/);
    assert.match(failed(r)?.detail ?? '', /expired/);
  });

  it('fail/wrong-tenant', async () => {
    const r = await check({ tenant: 'nosuchtenant.onmicrosoft.com' });
    assert.equal(failed(r)?.name, 'Entra ID token');
    // MSAL reports the unknown tenant as an endpoint failure; the doctor still names the tenant.
    assert.match(failed(r)?.code ?? '', /TENANT_NOT_FOUND|TOKEN_ENDPOINT_UNREACHABLE/);
    assert.match(failed(r)?.detail ?? '', /tenant 'nosuchtenant\.onmicrosoft\.com'/);
  });

  it('fail/expired-client-certificate', async () => {
    const alg = {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 2048,
    };
    const keys = (await webcrypto.subtle.generateKey(alg, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=scepkit expired',
      keys,
      signingAlgorithm: alg,
      notBefore: new Date(Date.now() - 20 * 86400_000),
      notAfter: new Date(Date.now() - 10 * 86400_000),
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
    const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
    const r = await check({ clientCertificate: { certificatePem: cert.toString('pem'), privateKeyPem } });
    assert.equal(failed(r)?.name, 'Entra ID token');
    assert.match(failed(r)?.code ?? '', /CLIENT_CERTIFICATE_EXPIRED|INVALID_CLIENT_CERTIFICATE/);
  });

  it('fail/no-graph-permission-named', async () => {
    const a = app(['intune']);
    const r = await check({ clientId: a.clientId, clientSecret: a.secret });
    assert.equal(failed(r)?.name, 'Graph discovery');
    assert.match(failed(r)?.detail ?? '', /Application\.Read\.All/);
  });

  it('fail/no-intune-permission-named', async () => {
    const a = app(['graph']);
    const r = await check({ clientId: a.clientId, clientSecret: a.secret });
    assert.equal(failed(r)?.name, 'validateRequest canary', formatDoctor(r));
    assert.match(failed(r)?.detail ?? '', /scep_challenge_provider/);
  });
});
