/**
 * HRESULTs scepkit sends in Intune `failureNotification`s (MS-ERREF §2.1; shown in the Intune admin center).
 * Documented in this folder's README; keep the two in sync.
 */
export const INTUNE_HRESULTS = {
  /** E_FAIL (0x80004005): the CA refused a request Intune had validated (issuance policy). */
  refused: -2147467259,
  /** E_UNEXPECTED (0x8000FFFF): the CA failed on its own (store, signer, outage); the device may retry. */
  caError: -2147418113,
} as const;

/** Longest `errorDescription` Intune accepts (docs/intune-api.md §1.6). */
export const MAX_ERROR_DESCRIPTION = 255;

/** `0x80004005` for `-2147467259`. */
export function hresultHex(hResult: number): string {
  return `0x${(hResult >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}
