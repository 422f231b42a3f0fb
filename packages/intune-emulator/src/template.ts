import { EmulatorError } from './errors.js';
import type { Device, ExpectedCsr, KeyUsageName, ScepProfile, User } from './model.js';

/** Intune's subject/SAN variables (docs/intune-api.md §4), lower-cased, and where their value comes from. */
const VARIABLES: Record<string, (d: Device, u: User | undefined) => string | undefined> = {
  aad_device_id: (d) => d.aadDeviceId,
  azureaddeviceid: (d) => d.aadDeviceId,
  deviceid: (d) => d.id,
  serialnumber: (d) => d.serialNumber,
  device_serial: (d) => d.serialNumber,
  imeinumber: (d) => d.imei,
  imei: (d) => d.imei,
  device_imei: (d) => d.imei,
  devicename: (d) => d.name,
  wifimacaddress: (d) => d.wifiMacAddress,
  userprincipalname: (_d, u) => u?.userPrincipalName,
  emailaddress: (_d, u) => u?.email,
  username: (_d, u) => u?.userName,
  onpremisessamaccountname: (_d, u) => u?.userName,
  onpremisessecurityidentifier: (_d, u) => u?.onPremisesSid,
};

/** `KeyUsageFlags` bits of `@peculiar/x509`. */
export const KEY_USAGE_BITS: Record<KeyUsageName, number> = { digitalSignature: 1, keyEncipherment: 4 };

/**
 * Replaces `{{Variable}}` (case-insensitive) with the device's or user's value. An unknown variable or one
 * without a value on this device (e.g. IMEI on a laptop) fails the profile, as Intune does.
 */
export function substitute(format: string, device: Device, user: User | undefined): string {
  return format.replace(/\{\{\s*([A-Za-z_]+)\s*\}\}/g, (_m, name: string) => {
    const source = VARIABLES[name.toLowerCase()];
    if (!source) {
      throw new EmulatorError('PROFILE_VARIABLE_UNAVAILABLE', `unsupported variable {{${name}}}`);
    }
    const value = source(device, user);
    if (value === undefined || value === '') {
      throw new EmulatorError(
        'PROFILE_VARIABLE_UNAVAILABLE',
        `variable {{${name}}} has no value for device ${device.id}`,
      );
    }
    return value;
  });
}

/** What a device must put into its CSR for `profile` (the user is required for user certificates). */
export function expectedCsrFor(profile: ScepProfile, device: Device, user: User | undefined): ExpectedCsr {
  if (profile.certificateType === 'user' && !user) {
    throw new EmulatorError('PROFILE_VARIABLE_UNAVAILABLE', `device ${device.id} has no primary user`);
  }
  return {
    subject: substitute(profile.subjectNameFormat, device, user),
    subjectAlternativeNames: profile.subjectAlternativeNames.map((san) => ({
      type: san.type,
      value: substitute(san.value, device, user),
    })),
    keyUsage: profile.keyUsage.reduce((bits, ku) => bits | KEY_USAGE_BITS[ku], 0),
    keySize: profile.keySize,
    extendedKeyUsages: [...profile.extendedKeyUsages],
  };
}
