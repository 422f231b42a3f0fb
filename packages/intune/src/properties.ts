import type { IntuneClientOptions } from './config.js';
import { IntuneConfigurationError } from './errors.js';

/**
 * Microsoft CsrValidation property names (Java and C# spellings) and the option each one sets.
 * `AAD_APP_KEY` may be left out when `overrides.clientCertificate` is given.
 */
export const MICROSOFT_PROPERTY_ALIASES = {
  AAD_APP_ID: 'clientId',
  AAD_APP_KEY: 'clientSecret',
  TENANT: 'tenant',
  PROVIDER_NAME_AND_VERSION: 'providerNameAndVersion',
  AUTH_AUTHORITY: 'authorityHost',
  INTUNE_APP_ID: 'intuneAppId',
  INTUNE_RESOURCE_URL: 'intuneResourceUrl',
  MS_GRAPH_RESOURCE_URL: 'graphResourceUrl',
  MSAL_GRAPH_RESOURCE_URL: 'graphResourceUrl',
  MS_GRAPH_API_VERSION: 'graphApiVersion',
  ScepRequestValidationFEServiceVersion: 'scepServiceVersion',
  PkiConnectorFEServiceVersion: 'pkiServiceVersion',
} as const satisfies Record<string, keyof IntuneClientOptions>;

const REQUIRED = ['AAD_APP_ID', 'TENANT', 'PROVIDER_NAME_AND_VERSION'] as const;

/**
 * Builds client options from Microsoft's property names, so a Java/C# library configuration carries over.
 * Also reads `PROXY_HOST`, `PROXY_PORT` (required with a host, 0-65535), `PROXY_USER`, `PROXY_PASS`
 * (required with a user). AAD Graph keys (`GRAPH_RESOURCE_URL`, `GRAPH_API_VERSION`, ...) are ignored.
 * `overrides` win over properties (e.g. `clientCertificate`, `logger`, `ca`).
 *
 * @example
 * const client = new IntuneClient(fromProperties({ AAD_APP_ID: '…', AAD_APP_KEY: '…', TENANT: 'contoso.onmicrosoft.com', PROVIDER_NAME_AND_VERSION: 'scepkit/0.1.0' }));
 */
export function fromProperties(
  props: Readonly<Record<string, string | undefined>>,
  overrides: Partial<IntuneClientOptions> = {},
): IntuneClientOptions {
  const get = (key: string): string | undefined => {
    const value = props[key]?.trim();
    return value === '' ? undefined : value;
  };
  for (const key of REQUIRED) {
    if (get(key) === undefined) throw new IntuneConfigurationError(key, 'required property is missing');
  }
  if (
    get('AAD_APP_KEY') === undefined &&
    overrides.clientSecret === undefined &&
    !overrides.clientCertificate
  ) {
    throw new IntuneConfigurationError(
      'AAD_APP_KEY',
      'required property is missing (or pass a clientCertificate)',
    );
  }
  const options: Record<string, unknown> = {};
  for (const [property, option] of Object.entries(MICROSOFT_PROPERTY_ALIASES)) {
    const value = get(property);
    if (value !== undefined && options[option] === undefined) options[option] = value;
  }
  const proxyHost = get('PROXY_HOST');
  if (proxyHost !== undefined) {
    const portText = get('PROXY_PORT');
    const port = Number(portText);
    if (portText === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new IntuneConfigurationError('PROXY_PORT', `required with PROXY_HOST, an integer 0..65535`);
    }
    const user = get('PROXY_USER');
    const pass = props['PROXY_PASS'];
    if (user !== undefined && pass === undefined) {
      throw new IntuneConfigurationError('PROXY_PASS', 'required with PROXY_USER');
    }
    const host = proxyHost.includes(':') && !proxyHost.startsWith('[') ? `[${proxyHost}]` : proxyHost;
    options['proxy'] = {
      url: `http://${host}:${port}`,
      ...(user !== undefined ? { username: user, password: pass } : {}),
    };
  }
  if (overrides.clientCertificate) delete options['clientSecret'];
  return { ...(options as unknown as IntuneClientOptions), ...overrides };
}
