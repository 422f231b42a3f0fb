import { describe } from 'node:test';
import { certificateTests } from './certificates.js';
import { concurrencyTests } from './concurrency.js';
import { consoleTests } from './console.js';
import type { StoreFactory } from './harness.js';
import { lifecycleTests } from './lifecycle.js';
import { outboxTests } from './outbox.js';
import { recordTests } from './records.js';
import { revocationTests } from './revocation.js';
import { searchPropertyTests } from './search-property.js';
import { transactionTests } from './transactions.js';

/**
 * Registers the `CertificateStore` conformance suite (node:test) for one implementation.
 *
 * @example
 * runStoreConformance({ name: 'sqlite', createDatabase: async () => ({ open: ..., drop: ... }) });
 */
export function runStoreConformance(factory: StoreFactory): void {
  describe(`CertificateStore conformance: ${factory.name}`, () => {
    certificateTests(factory);
    revocationTests(factory);
    transactionTests(factory);
    recordTests(factory);
    searchPropertyTests(factory);
    outboxTests(factory);
    concurrencyTests(factory);
    lifecycleTests(factory);
    consoleTests(factory);
  });
}

export { FakeClock } from './harness.js';
export type { StoreFactory, TestDatabase } from './harness.js';
