import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildDeviceCsr } from './csr.js';
import type { ScepPayload } from './deployment.js';
import { DISCOVERY_PATH, PKI_SERVICE_PATH, SCEP_SERVICE_PATH } from './graph.js';
import { startEmulator, type RunningEmulator } from './server.js';
import { GRAPH_SCOPE, INTUNE_SCOPE, sharedDeviceKeys, sharedKeys } from './testdata/fixture.js';
import { httpsCall, type HttpsResult } from './testdata/https.js';

describe('HTTPS server, admin API, fault injection, request log', () => {
  let emu: RunningEmulator;
  const call = (path: string, options: Parameters<typeof httpsCall>[1] = {}): Promise<HttpsResult> =>
    httpsCall(`${emu.url}${path}`, { ca: emu.tlsCaPem, ...options });
  const admin = (method: string, path: string, body?: object): Promise<HttpsResult> =>
    call(`/admin${path}`, { method, ...(body ? { body } : {}) });
  const tokenForm = (secret: string, scope = INTUNE_SCOPE): Parameters<typeof httpsCall>[1] => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emu.clientId ?? '',
      client_secret: secret,
      scope,
    }).toString(),
  });
  const inject = async (operation: string, fault: object, count?: number): Promise<void> => {
    const r = await admin('POST', '/faults', { operation, fault, ...(count !== undefined ? { count } : {}) });
    assert.equal(r.status, 201, r.text);
  };

  before(async () => {
    emu = await startEmulator({ port: 0, keys: await sharedKeys() });
  });
  after(async () => {
    await emu.stop();
  });

  it('ok/https: trusted with tlsCaPem, refused without it', async () => {
    assert.match(emu.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await call(`/${emu.tenantDomain}/v2.0/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.equal(r.json['token_endpoint'], `${emu.url}/${emu.tenantDomain}/oauth2/v2.0/token`);
    await assert.rejects(httpsCall(`${emu.url}/admin/state`), (err: NodeJS.ErrnoException) =>
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN'].includes(String(err.code)),
    );
  });

  it('ok/token-over-https and the request log without secrets', async () => {
    const r = await call(`/${emu.tenantId}/oauth2/v2.0/token`, tokenForm(emu.clientSecret ?? ''));
    assert.equal(r.status, 200);
    const logged = emu.emulator.requestsOf('token').at(-1);
    assert.ok(logged);
    assert.equal(logged.method, 'POST');
    assert.equal(logged.path, `/${emu.tenantId}/oauth2/v2.0/token`);
    assert.match(logged.body, /client_secret=%3Credacted%3E/);
    assert.ok(!JSON.stringify(emu.emulator.requests).includes(emu.clientSecret ?? '?'));
    const token = String(r.json['access_token']);
    const disc = await call(DISCOVERY_PATH, {
      headers: {
        authorization: `Bearer ${token}`,
        'client-request-id': '5e1f0000-0000-4000-8000-000000000001',
      },
    });
    assert.equal(disc.headers['client-request-id'], '5e1f0000-0000-4000-8000-000000000001');
    assert.match(String(disc.headers['request-id']), /^[0-9a-f-]{36}$/);
    const d = emu.emulator.requestsOf('discovery').at(-1);
    assert.equal(d?.headers['authorization'], 'Bearer <redacted>');
    const viaAdmin = await admin('GET', '/requests');
    assert.ok((viaAdmin.json['value'] as { operation: string }[]).some((x) => x.operation === 'discovery'));
  });

  it('ok/admin-api: tenant, app, secret, consent, user, device, profile, assignment, check-in, device view', async () => {
    const tenant = await admin('POST', '/tenants', { name: 'northwind' });
    assert.equal(tenant.status, 201);
    assert.equal(tenant.json['domain'], 'northwind.onmicrosoft.com');
    const t = String(tenant.json['id']);
    const app = await admin('POST', `/tenants/${t}/apps`, { displayName: 'scep' });
    const clientId = String(app.json['clientId']);
    const secret = await admin('POST', `/tenants/${t}/apps/${clientId}/secrets`, { lifetimeDays: 30 });
    assert.match(String(secret.json['value']), /^.{3}8Q~/);
    assert.equal(
      (
        await admin('POST', `/tenants/${t}/apps/${clientId}/permissions`, {
          resource: 'intune',
          name: 'scep_challenge_provider',
        })
      ).status,
      201,
    );
    assert.equal(
      (await admin('PUT', `/tenants/${t}/apps/${clientId}/consent`, { granted: true })).json['adminConsent'],
      true,
    );
    const user = await admin('POST', `/tenants/${t}/users`, {
      userPrincipalName: 'carol@northwind.onmicrosoft.com',
    });
    const device = await admin('POST', `/tenants/${t}/devices`, {
      platform: 'macos',
      userId: user.json['id'],
      serialNumber: 'C02XYZ',
    });
    assert.equal(device.json['serialNumber'], 'C02XYZ');
    const profile = await admin('POST', `/tenants/${t}/profiles`, {
      platform: 'macos',
      certificateType: 'user',
      subjectNameFormat: 'CN={{UserPrincipalName}},serialNumber={{SerialNumber}}',
      keySize: 4096,
    });
    const pid = String(profile.json['id']);
    assert.equal(
      (
        await admin('POST', `/tenants/${t}/profiles/${pid}/assignments`, {
          kind: 'user',
          id: user.json['id'],
        })
      ).status,
      201,
    );
    const checkIn = await admin('POST', `/tenants/${t}/devices/${device.json['id']}/check-in`, {});
    const [payload] = checkIn.json['value'] as {
      expected: { subject: string; keySize: number };
      challenge: string;
    }[];
    assert.equal(payload?.expected.subject, 'CN=carol@northwind.onmicrosoft.com,serialNumber=C02XYZ');
    assert.equal(payload?.expected.keySize, 4096);
    const view = await admin('GET', `/tenants/${t}/devices/${device.json['id']}`);
    assert.deepEqual(
      (view.json['deployments'] as { state: string }[]).map((d) => d.state),
      ['pending'],
    );
    const status = await admin('GET', `/tenants/${t}/profiles/${pid}/status`);
    assert.equal((status.json['value'] as unknown[]).length, 1);
    assert.equal((await admin('POST', `/tenants/${t}/devices`, { platform: 'amiga' })).status, 400);
    assert.equal((await admin('GET', `/tenants/${t}/devices/nope`)).status, 404);
    assert.equal((await admin('POST', '/tenants', { name: 'northwind' })).status, 409);
  });

  it('ok/https-enrollment-flow: check-in, validate, success, revocation queue, wipe (admin API)', async () => {
    const seed = emu.seed;
    assert.ok(seed);
    const t = seed.tenant.id;
    const device = seed.devices.windows;
    const checkIn = await admin('POST', `/tenants/${t}/devices/${device.id}/check-in`, {});
    const payload = (checkIn.json['value'] as ScepPayload[]).find(
      (p) => p.profileId === seed.deviceProfiles.windows.id,
    );
    assert.ok(payload);
    const csr = await buildDeviceCsr({
      profile: seed.deviceProfiles.windows,
      device,
      challenge: payload.challenge,
      keys: await sharedDeviceKeys(2048),
    });
    const token = String(
      (await call(`/${t}/oauth2/v2.0/token`, tokenForm(emu.clientSecret ?? ''))).json['access_token'],
    );
    const headers = { authorization: `Bearer ${token}`, 'api-version': '2018-02-20' };
    const base = `${SCEP_SERVICE_PATH}/ScepActions`;
    const v = await call(`${base}/validateRequest`, {
      method: 'POST',
      headers,
      body: { request: { transactionId: 'tx-h', certificateRequest: csr.base64, callerInfo: 'test' } },
    });
    assert.equal(v.json['code'], 'Success');
    const notification = {
      transactionId: 'tx-h',
      certificateRequest: csr.base64,
      certificateThumbprint: '0123456789ABCDEF0123456789ABCDEF01234567',
      certificateSerialNumber: '5f00aa',
      certificateExpirationDateUtc: '2027-11-27T03:00:00.000Z',
      issuingCertificateAuthority: 'CN=scepkit CA',
      callerInfo: 'test',
    };
    const s = await call(`${base}/successNotification`, { method: 'POST', headers, body: { notification } });
    assert.equal(s.json['code'], 'Success');
    const view = await admin('GET', `/tenants/${t}/devices/${device.id}`);
    assert.deepEqual(
      (view.json['certificates'] as { serialNumber: string }[]).map((c) => c.serialNumber),
      ['5f00aa'],
    );
    const queued = await admin('POST', `/tenants/${t}/revocations`, { serialNumber: '5f00aa' });
    assert.equal(queued.json['state'], 'pending');
    assert.equal((await admin('POST', `/tenants/${t}/revocations`, { serialNumber: 'ffff' })).status, 404);
    const wiped = await admin('POST', `/tenants/${t}/devices/${device.id}/wipe`, {});
    assert.equal(wiped.json['state'], 'wiped');
    assert.deepEqual(wiped.json['certificates'], []);
    const list = await admin('GET', `/tenants/${t}/revocations`);
    assert.deepEqual(
      (list.json['value'] as { serialNumber: string; state: string }[]).map((r) => [r.serialNumber, r.state]),
      [['5f00aa', 'pending']],
    );
  });

  it('fault/errorCode once on validateRequest, then normal handling', async () => {
    await inject(
      'validateRequest',
      { kind: 'errorCode', code: 'ChallengeDecryptionError', description: 'boom' },
      1,
    );
    const path = `${SCEP_SERVICE_PATH}/ScepActions/validateRequest`;
    const first = await call(path, { method: 'POST', body: { request: {} } });
    assert.equal(first.status, 200);
    assert.equal(first.json['code'], 'ChallengeDecryptionError');
    assert.equal(first.json['errorDescription'], 'boom');
    const second = await call(path, { method: 'POST', body: { request: {} } });
    assert.equal(second.status, 401);
    assert.deepEqual((await admin('GET', '/faults')).json['value'], []);
  });

  it('fault/http500 on discovery: OData InternalError', async () => {
    await inject('discovery', { kind: 'http500' }, 1);
    const r = await call(DISCOVERY_PATH);
    assert.equal(r.status, 500);
    assert.equal((r.json['error'] as Record<string, unknown>)['code'], 'InternalError');
  });

  it('fault/unauthorized on token: 401 invalid_client even with the right secret', async () => {
    await inject('token', { kind: 'unauthorized' }, 1);
    const r = await call(`/${emu.tenantId}/oauth2/v2.0/token`, tokenForm(emu.clientSecret ?? ''));
    assert.equal(r.status, 401);
    assert.equal(r.json['error'], 'invalid_client');
    assert.equal(
      (await call(`/${emu.tenantId}/oauth2/v2.0/token`, tokenForm(emu.clientSecret ?? ''))).status,
      200,
    );
  });

  it('fault/errorCode on token: the given AADSTS code', async () => {
    await inject('token', { kind: 'errorCode', code: 'AADSTS7000222' }, 1);
    const r = await call(`/${emu.tenantId}/oauth2/v2.0/token`, tokenForm(emu.clientSecret ?? ''));
    assert.equal(r.status, 401);
    assert.deepEqual(r.json['error_codes'], [7000222]);
  });

  it('fault/nonJson on download', async () => {
    await inject('download', { kind: 'nonJson' }, 1);
    const r = await call(`${PKI_SERVICE_PATH}/CertificateAuthorityRequests/downloadRevocationRequests`, {
      method: 'POST',
      body: {},
    });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.throws(() => JSON.parse(r.text) as unknown, SyntaxError);
  });

  it('fault/latency on upload: answered after the delay', async () => {
    await inject('upload', { kind: 'latency', ms: 150 }, 1);
    const started = Date.now();
    const r = await call(`${PKI_SERVICE_PATH}/CertificateAuthorityRequests/uploadRevocationResults`, {
      method: 'POST',
      body: {},
    });
    assert.ok(Date.now() - started >= 145, `took ${Date.now() - started} ms`);
    assert.equal(r.status, 401);
  });

  it('fault/drop on successNotification: connection destroyed', async () => {
    await inject('successNotification', { kind: 'drop' }, 1);
    await assert.rejects(
      call(`${SCEP_SERVICE_PATH}/ScepActions/successNotification`, { method: 'POST', body: {} }),
      (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET' || /socket hang up/.test(err.message),
    );
  });

  it('fault/permanent on failureNotification until cleared', async () => {
    await inject('failureNotification', { kind: 'errorCode', code: 'SomethingNew' });
    const path = `${SCEP_SERVICE_PATH}/ScepActions/failureNotification`;
    for (let i = 0; i < 3; i++)
      assert.equal((await call(path, { method: 'POST', body: {} })).json['code'], 'SomethingNew');
    const [rule] = (await admin('GET', '/faults')).json['value'] as { hits: number; remaining?: number }[];
    assert.equal(rule?.hits, 3);
    assert.equal(rule?.remaining, undefined);
    await admin('DELETE', '/faults', { operation: 'failureNotification' });
    assert.equal((await call(path, { method: 'POST', body: {} })).status, 401);
  });

  it('fail/fault-validation: unknown operation or kind is a 400', async () => {
    assert.equal(
      (await admin('POST', '/faults', { operation: 'nope', fault: { kind: 'drop' } })).status,
      400,
    );
    assert.equal(
      (await admin('POST', '/faults', { operation: 'token', fault: { kind: 'explode' } })).status,
      400,
    );
    assert.equal(
      (await admin('POST', '/faults', { operation: 'token', fault: { kind: 'drop' }, count: 0 })).status,
      400,
    );
  });

  it('ok/admin-clock: advancing time expires tokens', async () => {
    const r = await call(
      `/${emu.tenantId}/oauth2/v2.0/token`,
      tokenForm(emu.clientSecret ?? '', GRAPH_SCOPE),
    );
    const token = String(r.json['access_token']);
    const ok = await call(DISCOVERY_PATH, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    await admin('POST', '/clock', { advanceSeconds: 3600 });
    const expired = await call(DISCOVERY_PATH, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(expired.status, 401);
    assert.match(String((expired.json['error'] as Record<string, unknown>)['message']), /expired/);
    await admin('POST', '/clock', { advanceSeconds: -3600 });
  });
});
