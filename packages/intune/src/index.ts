export const PACKAGE_NAME = '@scepkit/intune';

export { explainAadsts, type AadstsExplanation } from './aadsts.js';
export {
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_GRAPH_API_VERSION,
  DEFAULT_GRAPH_RESOURCE_URL,
  DEFAULT_INTUNE_APP_ID,
  DEFAULT_INTUNE_RESOURCE_URL,
  DEFAULT_PKI_SERVICE_VERSION,
  DEFAULT_SCEP_SERVICE_VERSION,
  DEFAULT_TIMEOUT_MS,
  type ClientCertificateCredential,
  type IntuneClientOptions,
  type ProxyOptions,
} from './config.js';
export { PKI_CONNECTOR_SERVICE, SCEP_VALIDATION_SERVICE } from './discovery.js';
export {
  CA_REQUEST_ERROR_CODES,
  SCEP_ERROR_CODES,
  isRetryableCaRequestError,
  parseScepErrorCode,
  type CaRequestErrorCode,
  type CaRequestErrorName,
  type ScepErrorCode,
} from './error-codes.js';
export {
  IntuneArgumentError,
  IntuneConfigurationError,
  IntuneError,
  IntuneHttpError,
  IntuneNetworkError,
  IntuneProtocolError,
  IntuneServiceError,
  IntuneServiceNotFoundError,
  IntuneTokenError,
  type TokenErrorCode,
} from './errors.js';
export { IntuneClient, type ServiceAnswer, type ServiceCall } from './intune-client.js';
export { NOOP_LOGGER, type IntuneLogger } from './logger.js';
export { MICROSOFT_PROPERTY_ALIASES, fromProperties } from './properties.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry.js';
export {
  IntuneRevocationClient,
  MAX_REVOCATION_REQUESTS,
  type RevocationRequest,
  type RevocationResult,
} from './revocation-client.js';
export {
  IntuneScepValidator,
  type FailureNotification,
  type ScepActionResult,
  type SuccessNotification,
} from './scep-validator.js';
