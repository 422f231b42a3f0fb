import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILE_RENDER_HRESULT } from './deployment.js';
import { EmulatorError } from './errors.js';
import type { Device, User } from './model.js';
import { expectedCsrFor, substitute } from './template.js';
import { makeFixture } from './testdata/fixture.js';

const device: Device = {
  id: 'd-1',
  aadDeviceId: 'aad-1',
  tenantId: 't',
  platform: 'android',
  name: 'Pixel-7',
  serialNumber: 'SN123',
  imei: '356938035643809',
  wifiMacAddress: '00:11:22:33:44:55',
  state: 'enrolled',
  certificates: [],
};
const user: User = {
  id: 'u-1',
  tenantId: 't',
  userPrincipalName: 'dana@contoso.onmicrosoft.com',
  email: 'dana@contoso.example',
  displayName: 'Dana',
  userName: 'dana',
  onPremisesSid: 'S-1-5-21-1-2-3-1001',
};

describe('profile variables', () => {
  const cases: [string, string][] = [
    ['CN={{AAD_Device_ID}}', 'CN=aad-1'],
    ['CN={{AzureADDeviceId}}', 'CN=aad-1'],
    ['CN={{DeviceId}}', 'CN=d-1'],
    ['CN={{SerialNumber}},serialNumber={{SERIALNUMBER}}', 'CN=SN123,serialNumber=SN123'],
    ['CN={{IMEINumber}}', 'CN=356938035643809'],
    ['CN={{UserPrincipalName}}', 'CN=dana@contoso.onmicrosoft.com'],
    ['CN={{UserName}},E={{EmailAddress}}', 'CN=dana,E=dana@contoso.example'],
    ['CN={{DeviceName}},OU=Mobile,O=Contoso,C=US', 'CN=Pixel-7,OU=Mobile,O=Contoso,C=US'],
    ['CN={{WiFiMacAddress}}', 'CN=00:11:22:33:44:55'],
    [
      'tag:microsoft.com,2022-09-14:sid:{{OnPremisesSecurityIdentifier}}',
      'tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-1001',
    ],
  ];
  for (const [format, want] of cases) {
    it(`ok/${format}`, () => assert.equal(substitute(format, device, user), want));
  }

  it('fail/unknown-variable', () => {
    assert.throws(
      () => substitute('CN={{Nope}}', device, user),
      (e: unknown) => e instanceof EmulatorError && e.code === 'PROFILE_VARIABLE_UNAVAILABLE',
    );
  });

  it('fail/no-imei-on-a-laptop', () => {
    const { imei: _imei, ...laptop } = device;
    assert.throws(
      () => substitute('CN={{IMEINumber}}', { ...laptop, platform: 'windows' }, user),
      /has no value/,
    );
  });

  it('ok/expected-csr: key usage flags, EKUs and key size from the profile', async () => {
    const f = await makeFixture();
    const e = expectedCsrFor(f.seed.deviceProfiles.windows, f.seed.devices.windows, undefined);
    assert.equal(e.subject, `CN=${f.seed.devices.windows.aadDeviceId},OU=Devices,O=Contoso`);
    assert.deepEqual(e.subjectAlternativeNames, [
      { type: 'uri', value: `IntuneDeviceId://${f.seed.devices.windows.id}` },
    ]);
    assert.equal(e.keyUsage, 1 | 4);
    assert.equal(e.keySize, 2048);
    assert.deepEqual(e.extendedKeyUsages, ['1.3.6.1.5.5.7.3.2']);
  });

  it('fail/check-in-with-unavailable-variable: deployment failed, no challenge', async () => {
    const f = await makeFixture();
    const t = f.seed.tenant.id;
    const laptop = f.seed.devices.windows;
    const profile = f.emu.state.addProfile(t, {
      platform: 'windows',
      certificateType: 'device',
      subjectNameFormat: 'CN={{IMEINumber}}',
      assignments: [{ kind: 'device', id: laptop.id }],
    });
    const payloads = f.emu.checkIn(t, laptop.id);
    assert.equal(payloads.filter((p) => p.profileId === profile.id).length, 0);
    const [status] = f.emu.deploymentStatuses({ deviceId: laptop.id, profileId: profile.id });
    assert.equal(status?.state, 'failed');
    assert.equal(status?.hResult, PROFILE_RENDER_HRESULT);
    assert.match(status?.errorDescription ?? '', /IMEINumber/);
  });
});
