import type { TokenErrorCode } from './errors.js';

/** What an Entra ID `AADSTS` code means for a SCEP server operator (for logs and a `doctor` command). */
export interface AadstsExplanation {
  code: TokenErrorCode;
  hint: string;
}

const EXPLANATIONS: Record<string, AadstsExplanation> = {
  '7000215': {
    code: 'INVALID_CLIENT_SECRET',
    hint: 'the client secret (AAD_APP_KEY) is wrong; use the secret value, not the secret id',
  },
  '7000222': {
    code: 'CLIENT_SECRET_EXPIRED',
    hint: 'the client secret has expired; create a new one in Entra ID',
  },
  '700027': {
    code: 'INVALID_CLIENT_CERTIFICATE',
    hint: 'the client certificate is not registered on the app, or has expired there; upload the current certificate',
  },
  '700024': {
    code: 'INVALID_CLIENT_CERTIFICATE',
    hint: 'the client assertion is outside its validity window; check the system clock',
  },
  '700016': {
    code: 'APPLICATION_NOT_FOUND',
    hint: 'the application id (AAD_APP_ID) was not found in the tenant; check the id and that TENANT is the right tenant',
  },
  '90002': {
    code: 'TENANT_NOT_FOUND',
    hint: 'the tenant (TENANT) does not exist; check the tenant id or domain',
  },
  '900023': {
    code: 'TENANT_NOT_FOUND',
    hint: 'the tenant (TENANT) is neither a GUID nor a domain such as contoso.onmicrosoft.com',
  },
  '500011': {
    code: 'RESOURCE_NOT_FOUND',
    hint: 'the resource (Intune or Graph) is not provisioned in the tenant; check the tenant has Intune and the resource URLs',
  },
  '7000112': { code: 'APPLICATION_DISABLED', hint: 'the application is disabled in the tenant' },
};

/** Explains an AADSTS code (`AADSTS7000215` or `7000215`); undefined when unknown. */
export function explainAadsts(aadsts: string): AadstsExplanation | undefined {
  return EXPLANATIONS[aadsts.replace(/^AADSTS/i, '')];
}

/** Finds the first `AADSTS<digits>` in a token endpoint error text. */
export function findAadsts(text: string | undefined): string | undefined {
  return text?.match(/AADSTS\d+/)?.[0];
}
