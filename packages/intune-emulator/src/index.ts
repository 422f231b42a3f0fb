export const PACKAGE_NAME = '@scepkit/intune-emulator';

export { startEmulator, buildServer } from './server.js';
export type { StartEmulatorOptions, RunningEmulator } from './server.js';
export { IntuneEmulator } from './emulator.js';
export type { IntuneEmulatorOptions } from './emulator.js';
export { seedEmulator } from './seed.js';
export type { SeedOptions, SeedResult } from './seed.js';
export { createEmulatorKeys } from './keys.js';
export type { EmulatorKeys } from './keys.js';
export { EmulatorState } from './state.js';
export type {
  CreateAppInput,
  CreateDeviceInput,
  CreateProfileInput,
  CreateTenantInput,
  CreateUserInput,
  CreatedSecret,
} from './state.js';
export { EmulatorError, ChallengeValidationError } from './errors.js';
export type { EmulatorErrorCode } from './errors.js';
export { buildCsr, buildDeviceCsr, generateDeviceKeys, parseCsr } from './csr.js';
export type { BuildCsrOptions, BuiltCsr, ParsedCsr } from './csr.js';
export { mintChallenge, openChallenge, DEFAULT_CHALLENGE_PADDING } from './challenge.js';
export type { ChallengeClaims, ChallengeKeys } from './challenge.js';
export { expectedCsrFor, substitute } from './template.js';
export type { ScepPayload } from './deployment.js';
export { FAULT_OPERATIONS, FaultInjector } from './faults.js';
export type { Fault, FaultOperation, FaultRule } from './faults.js';
export type { RecordedRequest } from './recorder.js';
export type { EmulatorRequest, EmulatorResponse, EmulatorContext } from './http.js';
export type { Clock } from './clock.js';
export { DISCOVERY_PATH, PKI_SERVICE_PATH, SCEP_SERVICE_PATH } from './graph.js';
export {
  AAD_GRAPH_APP_ID,
  AAD_GRAPH_RESOURCE,
  CA_REQUEST_ERROR_CODES,
  GRAPH_APP_ID,
  GRAPH_RESOURCE,
  INTUNE_APP_ID,
  INTUNE_RESOURCE,
  PERMISSIONS,
  PKI_API_VERSION,
  PLATFORMS,
  SCEP_API_VERSION,
} from './model.js';
export type {
  AppCertificate,
  AppRegistration,
  AppSecret,
  Assignment,
  CaRequestErrorCode,
  ChallengeRecord,
  DeploymentState,
  DeploymentStatus,
  Device,
  DeviceCertificate,
  ExpectedCsr,
  GrantedPermission,
  IssuedCertificate,
  KeyUsageName,
  Platform,
  ResourceName,
  RevocationRequest,
  RevocationState,
  SanTemplate,
  SanType,
  ScepProfile,
  Tenant,
  User,
} from './model.js';
export { SimulatedDevice, createDevice } from './devices/device.js';
export type {
  DeviceStep,
  DeviceStepName,
  EnrollOptions as DeviceEnrollOptions,
  EnrollResult as DeviceEnrollResult,
  InstalledCertificate,
  RenewResult,
  SimulatedDeviceOptions,
} from './devices/device.js';
export { DeviceError } from './devices/errors.js';
export type { DeviceErrorCode } from './devices/errors.js';
export type { HttpExchange } from './devices/http.js';
export { PLATFORM_BEHAVIOURS } from './devices/platforms.js';
export type { PlatformBehaviour } from './devices/platforms.js';
export { appleBer, reencodeBer } from './devices/ber.js';
export type { BerRule } from './devices/ber.js';
export { DEMO_PLATFORMS, runDemo } from './devices/demo.js';
export type { DemoDeviceResult, RunDemoOptions } from './devices/demo.js';
