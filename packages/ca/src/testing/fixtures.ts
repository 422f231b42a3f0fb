// Test helpers (not exported from the package): one cached test CA per process.
import { createRootCa, type GeneratedCa } from '../init/root-ca.js';

let ca: Promise<GeneratedCa> | undefined;

/** An EC P-256 root CA valid from 2020 to ~2040 (so fixed clocks in tests fall inside). */
export function testCa(): Promise<GeneratedCa> {
  ca ??= createRootCa({
    subject: 'CN=scepkit Test CA, O=scepkit',
    key: { type: 'ec', curve: 'P-256' },
    validityDays: 7300,
    clock: () => new Date('2020-01-01T00:00:00Z'),
  });
  return ca;
}
