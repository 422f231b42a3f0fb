import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { CertificateRecord } from '../types.js';
import { fresh, makeCert } from './harness.js';
import type { StoreFactory } from './harness.js';

// Characters that LIKE treats specially (%, _, \) or that break naive quoting ('), plus letters in both cases.
const unit = fc.constantFrom('a', 'A', 'b', '%', '_', '\\', "'", ' ', '=');

export function searchPropertyTests(factory: StoreFactory): void {
  describe('search property', () => {
    test('ok/substring-search-matches-an-in-memory-filter', async (t) => {
      const { store, clock } = await fresh(t, factory);
      const words = fc.sample(fc.string({ unit, minLength: 1, maxLength: 6 }), 20);
      const certs: CertificateRecord[] = [];
      for (const w of words) {
        certs.push(
          await store.issue({
            certificate: makeCert(clock, { subject: `CN=${w}`, sans: [`dns:${w}`, 'upn:u@x'] }),
            audit: { actor: 'scep', action: 'issue' },
          }),
        );
      }
      const expect = (needle: string, pick: (c: CertificateRecord) => string) =>
        certs
          .filter((c) => pick(c).toLowerCase().includes(needle.toLowerCase()))
          .map((c) => c.serial)
          .sort();
      await fc.assert(
        fc.asyncProperty(fc.string({ unit, minLength: 1, maxLength: 3 }), async (needle) => {
          const bySubject = await store.searchCertificates({ subject: needle, limit: 1000 });
          assert.deepEqual(
            bySubject.map((c) => c.serial).sort(),
            expect(needle, (c) => c.subject),
          );
          const bySan = await store.searchCertificates({ san: needle, limit: 1000 });
          assert.deepEqual(
            bySan.map((c) => c.serial).sort(),
            expect(needle, (c) => c.sans.join('\n')),
          );
        }),
        { numRuns: 60 },
      );
    });
  });
}
