import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IntuneRevocationClient } from './revocation-client.js';
import { IntuneScepValidator } from './scep-validator.js';
import { FakeIntune, INTUNE_SCOPE } from './testdata/fake-intune.js';
import { fakeClient } from './testdata/fake-client.js';

describe('concurrency', () => {
  let fake: FakeIntune;
  before(async () => {
    fake = await FakeIntune.start();
  });
  after(() => fake.close());

  it('ok/20-parallel-cold-calls: one discovery and one token fetch per scope', async () => {
    const client = fakeClient(fake);
    try {
      const validator = new IntuneScepValidator(client);
      const revocation = new IntuneRevocationClient(client);
      const results = await Promise.all([
        ...Array.from({ length: 19 }, (_, i) => validator.validateRequest(`tx-${i}`, 'MIIBcsr==')),
        revocation.downloadRevocationRequests({ maxRequests: 5 }),
      ]);
      assert.equal(new Set(results.map((r) => r.activityId)).size, 20);
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 1, scep: 19, pki: 1 });
      const scopes = fake.of('token').map((r) =>
        new URLSearchParams(r.body)
          .get('scope')
          ?.split(' ')
          .find((s) => s.endsWith('.default')),
      );
      assert.deepEqual(scopes, [fake.graphScope, INTUNE_SCOPE]);
      assert.equal(new Set(fake.of('scep').map((r) => r.headers['authorization'])).size, 1);
    } finally {
      await client.close();
    }
  });
});
