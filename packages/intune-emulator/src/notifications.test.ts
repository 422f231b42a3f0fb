import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildDeviceCsr } from './csr.js';
import { DISCOVERY_PATH, PKI_SERVICE_PATH, SCEP_SERVICE_PATH } from './graph.js';
import {
  GRAPH_SCOPE,
  INTUNE_SCOPE,
  makeFixture,
  sharedDeviceKeys,
  type Fixture,
} from './testdata/fixture.js';

describe('notifications, deployment status, revocation, discovery', () => {
  let f: Fixture;
  let token: string;
  const headers = (apiVersion: string, bearer = token): Record<string, string> => ({
    authorization: `Bearer ${bearer}`,
    'api-version': apiVersion,
    'content-type': 'application/json; charset=utf-8',
  });
  const scep = (action: string, body: object) =>
    f.call('POST', `${SCEP_SERVICE_PATH}/ScepActions/${action}`, { headers: headers('2018-02-20'), body });
  const pki = (action: string, body: object) =>
    f.call('POST', `${PKI_SERVICE_PATH}/CertificateAuthorityRequests/${action}`, {
      headers: headers('5019-05-05'),
      body,
    });
  const enrollCsr = async (platform: 'windows' | 'android'): Promise<string> => {
    const device = f.seed.devices[platform];
    const profile = f.seed.deviceProfiles[platform];
    const p = f.emu.checkIn(f.seed.tenant.id, device.id).find((x) => x.profileId === profile.id);
    assert.ok(p);
    return (
      await buildDeviceCsr({ profile, device, challenge: p.challenge, keys: await sharedDeviceKeys(2048) })
    ).base64;
  };
  const success = (csr: string, serial: string, thumbprint: string) =>
    scep('successNotification', {
      notification: {
        transactionId: `tx-${serial}`,
        certificateRequest: csr,
        certificateThumbprint: thumbprint,
        certificateSerialNumber: serial,
        certificateExpirationDateUtc: '2027-11-27T03:00:00.0000000Z',
        issuingCertificateAuthority: 'CN=scepkit Issuing CA',
        callerInfo: 'scepkit-test/1.0',
        caConfiguration: null,
        certificateAuthority: null,
      },
    });

  before(async () => {
    f = await makeFixture();
    token = await f.token(INTUNE_SCOPE);
  });

  it('ok/pending-then-succeeded: deployment status and the device certificate list', async () => {
    const device = f.seed.devices.windows;
    const profileId = f.seed.deviceProfiles.windows.id;
    const csr = await enrollCsr('windows');
    const pending = f.emu.deploymentStatuses({ deviceId: device.id, profileId });
    assert.equal(pending[0]?.state, 'pending');
    assert.equal(
      (
        await scep('validateRequest', {
          request: { transactionId: 'tx-a1', certificateRequest: csr, callerInfo: 'x' },
        })
      ).json['code'],
      'Success',
    );
    const r = await success(csr, '7a1b2c', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3');
    assert.equal(r.status, 200);
    assert.equal(r.json['code'], 'Success');
    const [status] = f.emu.deploymentStatuses({ deviceId: device.id, profileId });
    assert.equal(status?.state, 'succeeded');
    assert.equal(status?.certificateThumbprint, 'A94A8FE5CCB19BA61C4C0873D391E987982FBBD3');
    assert.equal(status?.transactionId, 'tx-7a1b2c');
    assert.deepEqual(
      device.certificates.map((c) => [c.thumbprint, c.serialNumber, c.expiresAt, c.profileId]),
      [['A94A8FE5CCB19BA61C4C0873D391E987982FBBD3', '7a1b2c', '2027-11-27T03:00:00.0000000Z', profileId]],
    );
    // A satisfied profile mints no new challenge at the next check-in.
    assert.equal(
      f.emu.checkIn(f.seed.tenant.id, device.id).filter((p) => p.profileId === profileId).length,
      0,
    );
  });

  it('ok/renewal: a new challenge once the renewal threshold (20%) is reached', async () => {
    const device = f.seed.devices.windows;
    const profileId = f.seed.deviceProfiles.windows.id;
    const [cert] = device.certificates;
    assert.ok(cert);
    const lifetime = Date.parse(cert.expiresAt) - Date.parse(cert.installedAt);
    const saved = f.clock.now;
    f.clock.now = Date.parse(cert.installedAt) + lifetime * 0.79;
    assert.equal(
      f.emu.checkIn(f.seed.tenant.id, device.id).filter((p) => p.profileId === profileId).length,
      0,
    );
    f.clock.now = Date.parse(cert.installedAt) + lifetime * 0.81;
    assert.equal(
      f.emu.checkIn(f.seed.tenant.id, device.id).filter((p) => p.profileId === profileId).length,
      1,
    );
    f.clock.now = saved;
  });

  it('ok/failure-notification: failed with hResult and description', async () => {
    const device = f.seed.devices.android;
    const csr = await enrollCsr('android');
    const r = await scep('failureNotification', {
      notification: {
        transactionId: 'tx-f',
        certificateRequest: csr,
        hResult: -2147418113,
        errorDescription: 'CA is offline',
        callerInfo: 'x',
      },
    });
    assert.equal(r.json['code'], 'Success');
    const [status] = f.emu.deploymentStatuses({
      deviceId: device.id,
      profileId: f.seed.deviceProfiles.android.id,
    });
    assert.equal(status?.state, 'failed');
    assert.equal(status?.hResult, -2147418113);
    assert.equal(status?.errorDescription, 'CA is offline');
  });

  it('fail/notification-missing-fields: 400 OData error', async () => {
    const r = await scep('successNotification', { notification: { transactionId: 'x' } });
    assert.equal(r.status, 400);
    assert.equal((r.json['error'] as Record<string, unknown>)['code'], 'BadRequest');
    assert.match(
      String((r.json['error'] as Record<string, unknown>)['message']),
      /certificateRequest, certificateThumbprint/,
    );
  });

  it('ok/revocation: queued, downloaded, uploaded with the numeric-string code (Java)', async () => {
    const queued = f.emu.queueRevocation(f.seed.tenant.id, { serialNumber: '7a1b2c' });
    const d = await pki('downloadRevocationRequests', {
      downloadParameters: { maxRequests: 10, issuerName: null },
    });
    assert.equal(d.status, 200);
    assert.match(
      String(d.json['@odata.context']),
      /Collection\(microsoft\.management\.services\.api\.caRevocationRequest\)$/,
    );
    assert.deepEqual(d.json['value'], [
      {
        requestContext: queued.requestContext,
        serialNumber: '7a1b2c',
        issuerName: 'CN=scepkit Issuing CA',
        caConfiguration: null,
      },
    ]);
    const u = await pki('uploadRevocationResults', {
      results: [{ requestContext: queued.requestContext, succeeded: true, errorCode: '0' }],
    });
    assert.deepEqual(u.json['value'], true);
    assert.equal(queued.state, 'succeeded');
    assert.equal(queued.errorCode, 'None');
    const again = await pki('downloadRevocationRequests', {
      downloadParameters: { maxRequests: 10, issuerName: null },
    });
    assert.deepEqual(again.json['value'], []);
  });

  it('ok/revocation-upload-csharp-form: enum names and PascalCase keys', async () => {
    const queued = f.emu.queueRevocation(f.seed.tenant.id, {
      thumbprint: 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
    });
    await pki('downloadRevocationRequests', {
      downloadParameters: { maxRequests: 1, issuerName: 'CN=scepkit Issuing CA' },
    });
    const u = await pki('uploadRevocationResults', {
      Results: [
        {
          RequestContext: queued.requestContext,
          Succeeded: false,
          ErrorCode: 'CertificateNotFoundError',
          ErrorMessage: 'unknown serial',
        },
      ],
    });
    assert.deepEqual(u.json['value'], true);
    assert.equal(queued.state, 'failed');
    assert.equal(queued.errorCode, 'CertificateNotFoundError');
    assert.equal(queued.errorMessage, 'unknown serial');
  });

  it('fail/revocation-bad-input: maxRequests 501, unknown error code, succeeded with an error', async () => {
    assert.equal(
      (await pki('downloadRevocationRequests', { downloadParameters: { maxRequests: 501 } })).status,
      400,
    );
    assert.equal(
      (await pki('downloadRevocationRequests', { downloadParameters: { maxRequests: 0 } })).status,
      400,
    );
    assert.equal(
      (
        await pki('uploadRevocationResults', {
          results: [{ requestContext: 'r', succeeded: false, errorCode: '1234' }],
        })
      ).status,
      400,
    );
    assert.equal(
      (
        await pki('uploadRevocationResults', {
          results: [{ requestContext: 'r', succeeded: true, errorCode: '4004' }],
        })
      ).status,
      400,
    );
    const wrongVersion = await f.call(
      'POST',
      `${PKI_SERVICE_PATH}/CertificateAuthorityRequests/downloadRevocationRequests`,
      {
        headers: headers('2018-02-20'),
        body: { downloadParameters: { maxRequests: 1 } },
      },
    );
    assert.equal(wrongVersion.status, 400);
  });

  it('ok/retire: certificate removed from the device, not revoked; profile no longer targeted', async () => {
    const device = f.seed.devices.windows;
    const before = f.emu.state.revocations.length;
    const retired = f.emu.retire(f.seed.tenant.id, device.id);
    assert.equal(retired.state, 'retired');
    assert.deepEqual(retired.certificates, []);
    assert.equal(f.emu.state.revocations.length, before);
    assert.equal(f.emu.state.issued.filter((c) => c.deviceId === device.id).length, 1);
    assert.deepEqual(f.emu.checkIn(f.seed.tenant.id, device.id), []);
  });

  it('ok/discovery-with-consent: both services, URIs on the emulator', async () => {
    const r = await f.call('GET', DISCOVERY_PATH, {
      headers: { authorization: `Bearer ${await f.token(GRAPH_SCOPE)}` },
    });
    assert.equal(r.status, 200);
    const byName = Object.fromEntries(
      (r.json['value'] as Record<string, string>[]).map((e) => [e['providerName'], e['uri']]),
    );
    assert.equal(byName['ScepRequestValidationFEService'], `${f.emu.baseUrl}${SCEP_SERVICE_PATH}`);
    assert.equal(byName['PkiConnectorFEService'], `${f.emu.baseUrl}${PKI_SERVICE_PATH}`);
  });

  it('ok/aad-graph-fallback: 403 as in #112 without Directory.Read.All, serviceName list with it', async () => {
    const v1 = async (): Promise<string> => {
      const r = await f.call('POST', `/${f.seed.tenant.domain}/oauth2/token`, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: f.seed.app.clientId,
          client_secret: f.seed.clientSecret,
          resource: 'https://graph.windows.net/',
        }).toString(),
      });
      assert.equal(r.status, 200);
      return String(r.json['access_token']);
    };
    const path = `/${f.seed.tenant.domain}/servicePrincipalsByAppId/0000000a-0000-0000-c000-000000000000/serviceEndpoints?api-version=1.6`;
    const denied = await f.call('GET', path, { headers: { authorization: `Bearer ${await v1()}` } });
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.json['odata.error'], {
      code: 'Authorization_RequestDenied',
      message: { lang: 'en', value: 'Insufficient privileges to complete the operation.' },
    });
    f.emu.state.grantPermission(f.seed.tenant.id, f.seed.app.clientId, {
      resource: 'aadGraph',
      name: 'Directory.Read.All',
    });
    const ok = await f.call('GET', path, { headers: { authorization: `Bearer ${await v1()}` } });
    assert.equal(ok.status, 200);
    const byName = Object.fromEntries(
      (ok.json['value'] as Record<string, string>[]).map((e) => [e['serviceName'], e['uri']]),
    );
    assert.equal(byName['ScepRequestValidationFEService'], `${f.emu.baseUrl}${SCEP_SERVICE_PATH}`);
    assert.equal(byName['PkiConnectorFEService'], `${f.emu.baseUrl}${PKI_SERVICE_PATH}`);
    f.emu.state.revokePermission(f.seed.tenant.id, f.seed.app.clientId, {
      resource: 'aadGraph',
      name: 'Directory.Read.All',
    });
  });

  it('fail/discovery-without-consent: 403 Authorization_RequestDenied; intune token 401', async () => {
    const app = f.emu.state.addApp(f.seed.tenant.id, {
      permissions: [{ resource: 'graph', name: 'Application.Read.All' }],
    });
    const secret = f.emu.state.addSecret(f.seed.tenant.id, app.clientId).value;
    const graphToken = await f.token(GRAPH_SCOPE, app.clientId, secret);
    const r = await f.call('GET', DISCOVERY_PATH, { headers: { authorization: `Bearer ${graphToken}` } });
    assert.equal(r.status, 403);
    assert.deepEqual(
      r.json['error'] && (r.json['error'] as Record<string, unknown>)['code'],
      'Authorization_RequestDenied',
    );
    f.emu.state.setAdminConsent(f.seed.tenant.id, app.clientId, true);
    const consented = await f.call('GET', DISCOVERY_PATH, {
      headers: { authorization: `Bearer ${await f.token(GRAPH_SCOPE, app.clientId, secret)}` },
    });
    assert.equal(consented.status, 200);
    const wrongAud = await f.call('GET', DISCOVERY_PATH, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(wrongAud.status, 401);
    assert.equal((wrongAud.json['error'] as Record<string, unknown>)['code'], 'InvalidAuthenticationToken');
  });
});
