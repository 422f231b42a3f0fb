import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  IntuneHttpError,
  IntuneNetworkError,
  IntuneServiceError,
  IntuneServiceNotFoundError,
  IntuneTokenError,
  PKI_CONNECTOR_SERVICE,
  SCEP_VALIDATION_SERVICE,
  explainAadsts,
  type IntuneClient,
  type IntuneScepValidator,
} from '@scepkit/intune';

export type DoctorStepStatus = 'ok' | 'fail' | 'skipped';

export interface DoctorStep {
  name: string;
  status: DoctorStepStatus;
  /** What was found, in words for a tenant admin (never secrets). */
  detail: string;
  /** e.g. `INVALID_CLIENT_SECRET`, `AADSTS7000215`, `HTTP 403`, `ChallengePasswordMissing`. */
  code?: string;
}

export interface DoctorReport {
  ok: boolean;
  checkedAt: string;
  steps: DoctorStep[];
}

/** Intune answers that prove the app may call validateRequest and the endpoint works (the canary has no challenge). */
const CANARY_EXPECTED = new Set(['ChallengePasswordMissing']);

let canaryCsr: Promise<string> | undefined;

/** A throwaway CSR without challengePassword (made once per process): Intune must refuse it. */
function canary(): Promise<string> {
  canaryCsr ??= (async () => {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
    const keys = (await webcrypto.subtle.generateKey(
      { ...alg, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      true,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=scepkit doctor canary',
      keys,
      signingAlgorithm: alg,
    });
    return Buffer.from(csr.rawData).toString('base64');
  })();
  return canaryCsr;
}

function tokenDetail(err: IntuneTokenError, tenant: string): string {
  const explained = err.aadsts ? explainAadsts(err.aadsts) : undefined;
  if (explained) return `Entra ID refused the app's credentials: ${explained.hint}`;
  if (err.code === 'TOKEN_ENDPOINT_UNREACHABLE' && /endpoints_resolution_error/.test(err.message)) {
    // MSAL reports an unknown tenant (the OpenID metadata answers 400 AADSTS90002) as an endpoint failure.
    return (
      `Entra ID has no sign-in metadata for tenant '${tenant}': check the tenant id or domain ` +
      `(name.onmicrosoft.com); if it is right, check the authority URL, proxy and TLS trust`
    );
  }
  return `could not get a token from Entra ID: ${err.hint}`;
}

function httpDetail(err: IntuneHttpError, what: string): string {
  if (err.status === 401 || err.status === 403) {
    return `${what} answered HTTP ${err.status}${err.odataCode ? ` ${err.odataCode}` : ''}: ${
      what === 'Microsoft Graph'
        ? "the app lacks the Microsoft Graph application permission 'Application.Read.All' or its admin consent"
        : "the app lacks the Intune application permission 'scep_challenge_provider' (SCEP challenge validation) or its admin consent"
    }`;
  }
  return `${what} answered HTTP ${err.status}${err.odataCode ? ` ${err.odataCode}` : ''}: the service is failing; try again later`;
}

function describe(err: unknown, what: string, tenant: string): { detail: string; code?: string } {
  if (err instanceof IntuneTokenError) {
    return { detail: tokenDetail(err, tenant), code: err.aadsts ? `${err.code} ${err.aadsts}` : err.code };
  }
  if (err instanceof IntuneHttpError) return { detail: httpDetail(err, what), code: `HTTP ${err.status}` };
  if (err instanceof IntuneServiceNotFoundError) return { detail: err.message, code: err.code };
  if (err instanceof IntuneNetworkError) {
    return { detail: `cannot reach ${what} (${err.code}): check DNS, proxy and firewall`, code: err.code };
  }
  if (err instanceof IntuneServiceError) return { detail: `Intune answered ${err.code}`, code: err.code };
  return { detail: err instanceof Error ? err.message : String(err) };
}

/**
 * Checks the Intune integration step by step, as a tenant admin would want it explained: the Entra token
 * (secret, certificate, tenant), Graph discovery (Application.Read.All), the two Intune services, and a live
 * `validateRequest` with a canary CSR whose expected refusal (`ChallengePasswordMissing`) proves that the
 * permission and the endpoint work. Never throws.
 *
 * @example
 * const report = await runDoctor(intune.client, intune.validator);
 * console.log(formatDoctor(report));
 */
export async function runDoctor(
  client: IntuneClient,
  validator: IntuneScepValidator,
  now: () => Date = () => new Date(),
): Promise<DoctorReport> {
  const steps: DoctorStep[] = [];
  const { tenant, clientId } = client.config;
  const step = async (name: string, what: string, run: () => Promise<string>): Promise<boolean> => {
    if (steps.some((s) => s.status !== 'ok')) {
      steps.push({ name, status: 'skipped', detail: 'an earlier step failed' });
      return false;
    }
    try {
      steps.push({ name, status: 'ok', detail: await run() });
      return true;
    } catch (err) {
      steps.push({ name, status: 'fail', ...describe(err, what, tenant) });
      return false;
    }
  };
  await step('Entra ID token', 'Entra ID', async () => {
    await client.getIntuneToken();
    return `app ${clientId} got a token for Intune in tenant ${tenant}`;
  });
  await step('Graph discovery', 'Microsoft Graph', async () => {
    const uri = await client.resolveService(SCEP_VALIDATION_SERVICE);
    return `${SCEP_VALIDATION_SERVICE} at ${uri}`;
  });
  await step('PKI connector discovery', 'Microsoft Graph', async () => {
    const uri = await client.resolveService(PKI_CONNECTOR_SERVICE);
    return `${PKI_CONNECTOR_SERVICE} at ${uri}`;
  });
  await step('validateRequest canary', 'Intune', async () => {
    try {
      await validator.validateRequest(`scepkit-doctor-${now().getTime()}`, await canary());
    } catch (err) {
      if (err instanceof IntuneServiceError && CANARY_EXPECTED.has(err.code)) {
        return `Intune refused the canary as expected (${err.code}): permission and endpoint work`;
      }
      if (err instanceof IntuneServiceError) {
        return `Intune answered ${err.code} (expected ChallengePasswordMissing): the endpoint works`;
      }
      throw err;
    }
    throw new Error(
      'Intune accepted a CSR without a challenge: this is not a real Intune validation service',
    );
  });
  return { ok: steps.every((s) => s.status === 'ok'), checkedAt: now().toISOString(), steps };
}

/** One line per step: `ok   Entra ID token: ...`. */
export function formatDoctor(report: DoctorReport): string {
  const mark = { ok: 'ok  ', fail: 'FAIL', skipped: 'skip' } as const;
  return [
    ...report.steps.map(
      (s) => `${mark[s.status]} ${s.name}: ${s.detail}${s.status === 'fail' && s.code ? ` [${s.code}]` : ''}`,
    ),
    report.ok ? 'Intune integration: OK' : 'Intune integration: NOT WORKING',
  ].join('\n');
}
