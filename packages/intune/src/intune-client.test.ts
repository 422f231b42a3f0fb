import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Agent } from 'undici';
import {
  IntuneTokenError,
  IntuneHttpError,
  IntuneNetworkError,
  IntuneProtocolError,
  IntuneServiceNotFoundError,
} from './errors.js';
import { IntuneScepValidator } from './scep-validator.js';
import { FakeIntune, endpoint, odata } from './testdata/fake-intune.js';
import { fakeClient, recordingLogger } from './testdata/fake-client.js';

const CSR = 'MIIBcsr==';

/** A port with nothing listening (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('IntuneClient transport', () => {
  let fake: FakeIntune;
  before(async () => {
    fake = await FakeIntune.start();
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.serviceHook = undefined;
    fake.discoveryHook = undefined;
    fake.endpoints = undefined;
  });

  it('fail/http-401-odata: IntuneHttpError with status and body, not retried, discovery dropped', async () => {
    const body = { error: { code: 'Unauthorized', message: 'The app lacks scep_challenge_provider' } };
    fake.serviceHook = () => ({ status: 401, body });
    const delays: number[] = [];
    const logger = recordingLogger();
    const client = fakeClient(fake, { sleep: async (ms) => void delays.push(ms), logger });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneHttpError);
      assert.equal(err.status, 401);
      assert.deepEqual(
        logger.lines
          .filter((l) => l.level !== 'debug')
          .map((l) => [l.level, l.obj['op'], l.obj['activityId']]),
        [
          ['info', 'discovery', logger.lines.find((l) => l.obj['op'] === 'discovery')?.obj['activityId']],
          ['warn', 'discovery', err.activityId],
          ['error', 'validateRequest', err.activityId],
        ],
      );
      assert.deepEqual(JSON.parse(err.body), body);
      assert.equal(err.odataCode, 'Unauthorized');
      assert.equal(err.odataMessage, 'The app lacks scep_challenge_provider');
      assert.equal(err.activityId, fake.of('scep')[0]?.headers['client-request-id']);
      assert.deepEqual(delays, []);
      assert.equal(fake.of('scep').length, 1);

      fake.serviceHook = undefined;
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.equal(fake.of('discovery').length, 2, 'the non-2xx answer dropped the discovery cache');
      // The 401 also dropped the Intune token: a new one (e.g. after admin consent) is fetched.
      const auths = fake.of('scep').map((r) => r.headers['authorization']);
      assert.deepEqual(auths, ['Bearer intune-token-2', 'Bearer intune-token-3']);
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.equal(
        fake.of('scep')[2]?.headers['authorization'],
        'Bearer intune-token-3',
        'then cached again',
      );
    } finally {
      await client.close();
    }
  });

  it('fail/http-500-odata: retried with bounded backoff and re-discovery, then IntuneHttpError', async () => {
    fake.serviceHook = () => odata(500, 'InternalError', 'An internal server error occurred.');
    const delays: number[] = [];
    const client = fakeClient(fake, {
      sleep: async (ms) => void delays.push(ms),
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 150 },
    });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneHttpError);
      assert.equal(err.status, 500);
      assert.equal(err.odataCode, 'InternalError');
      assert.deepEqual(delays, [100, 150]);
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 3, scep: 3 });
      const ids = new Set(fake.of('scep').map((r) => r.headers['client-request-id']));
      assert.deepEqual([...ids], [err.activityId], 'one activity id per operation');
    } finally {
      await client.close();
    }
  });

  it('ok/503-then-200: Retry-After honoured, then success', async () => {
    let n = 0;
    fake.serviceHook = () =>
      n++ === 0
        ? { status: 503, body: 'busy', headers: { 'retry-after': '1', 'content-type': 'text/plain' } }
        : undefined;
    const delays: number[] = [];
    const client = fakeClient(fake, { sleep: async (ms) => void delays.push(ms) });
    try {
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.deepEqual(delays, [1000]);
      assert.equal(fake.of('scep').length, 2);
    } finally {
      await client.close();
    }
  });

  it('fail/non-json-200: IntuneProtocolError, not retried, discovery kept', async () => {
    fake.serviceHook = () => ({
      status: 200,
      body: '<html>gateway</html>',
      headers: { 'content-type': 'text/html' },
    });
    const client = fakeClient(fake);
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneProtocolError);
      assert.equal(err.body, '<html>gateway</html>');
      assert.match(err.message, /Failed to parse JSON response from Intune/);
      assert.equal(fake.of('scep').length, 1);
      fake.serviceHook = undefined;
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.equal(fake.of('discovery').length, 1);
    } finally {
      await client.close();
    }
  });

  it('fail/non-json-403: IntuneHttpError keeps the raw body', async () => {
    fake.serviceHook = () => ({ status: 403, body: 'Forbidden', headers: { 'content-type': 'text/plain' } });
    const client = fakeClient(fake);
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneHttpError);
      assert.equal(err.status, 403);
      assert.equal(err.body, 'Forbidden');
      assert.equal(err.odataCode, undefined);
    } finally {
      await client.close();
    }
  });

  it('fail/200-without-code: IntuneProtocolError', async () => {
    fake.serviceHook = () => ({ status: 200, body: { errorDescription: 'no code' } });
    const client = fakeClient(fake);
    try {
      await assert.rejects(new IntuneScepValidator(client).validateRequest('tx', CSR), IntuneProtocolError);
    } finally {
      await client.close();
    }
  });

  it('fail/network-then-rediscovery: a dead service host fails the call, the next call re-discovers', async () => {
    const dead = await deadPort();
    let discoveries = 0;
    fake.endpoints = () =>
      discoveries++ === 0
        ? [endpoint('ScepRequestValidationFEService', `https://127.0.0.1:${dead}/scep`)]
        : [endpoint('ScepRequestValidationFEService', `${fake.url}/scep`)];
    const client = fakeClient(fake, { retry: { attempts: 1 } });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneNetworkError);
      assert.equal(err.code, 'NETWORK_ERROR');
      assert.equal(err.url, `https://127.0.0.1:${dead}/scep/ScepActions/validateRequest`);
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 1 });

      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 2, scep: 1 });
    } finally {
      await client.close();
    }
  });

  it('ok/network-retry-heals: with retries, one call re-discovers and succeeds', async () => {
    const dead = await deadPort();
    let discoveries = 0;
    fake.endpoints = () => [
      endpoint(
        'ScepRequestValidationFEService',
        discoveries++ === 0 ? `https://127.0.0.1:${dead}/scep` : `${fake.url}/scep`,
      ),
    ];
    const client = fakeClient(fake);
    try {
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 2, scep: 1 });
    } finally {
      await client.close();
    }
  });

  it('fail/timeout: IntuneNetworkError TIMEOUT after the per-request timeout', async () => {
    const client = fakeClient(fake, { timeoutMs: 1000, retry: { attempts: 1 } });
    try {
      const validator = new IntuneScepValidator(client);
      await validator.validateRequest('tx', CSR); // warm: tokens and discovery done, only the POST is slow
      fake.serviceHook = () => ({
        status: 200,
        body: { code: 'Success', errorDescription: '' },
        delayMs: 10_000,
      });
      const started = Date.now();
      const err = await rejection(validator.validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneNetworkError);
      assert.equal(err.code, 'TIMEOUT');
      assert.ok(Date.now() - started < 5000);
    } finally {
      await client.close();
    }
  });

  it('fail/service-not-found: says what to check, and the incomplete list is not kept', async () => {
    fake.endpoints = () => [endpoint('SomeOtherService', `${fake.url}/other`)];
    const client = fakeClient(fake);
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneServiceNotFoundError);
      assert.equal(err.serviceName, 'ScepRequestValidationFEService');
      assert.match(err.message, /scep_challenge_provider/);
      assert.match(err.message, /Application\.Read\.All/);
      assert.match(err.message, /admin consent/);
      assert.match(err.message, /TENANT/);
      fake.endpoints = undefined;
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.equal(fake.of('discovery').length, 2);
    } finally {
      await client.close();
    }
  });

  it('ok/discovery-names: case-insensitive, AAD Graph serviceName accepted, first entry wins', async () => {
    fake.endpoints = () => [
      { serviceName: 'scepREQUESTvalidationFEservice', uri: `${fake.url}/scep` },
      endpoint('ScepRequestValidationFEService', 'https://127.0.0.1:1/never'),
    ];
    const client = fakeClient(fake);
    try {
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.equal(fake.of('scep').length, 1);
    } finally {
      await client.close();
    }
  });

  it('fail/discovery-403: IntuneHttpError naming the Graph permission, not retried', async () => {
    fake.discoveryHook = () => ({
      status: 403,
      body: {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
        },
      },
    });
    const client = fakeClient(fake);
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneHttpError);
      assert.equal(err.status, 403);
      assert.equal(err.odataCode, 'Authorization_RequestDenied');
      assert.match(err.message, /Application\.Read\.All/);
      assert.equal(fake.of('discovery').length, 1);
      assert.equal(fake.of('scep').length, 0);
      fake.discoveryHook = undefined;
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      const [first, second] = fake.of('discovery').map((r) => r.headers['authorization']);
      assert.notEqual(first, second, 'a fresh Graph token after the 403');
    } finally {
      await client.close();
    }
  });

  it('fail/discovery-500-then-ok: discovery retried', async () => {
    let n = 0;
    fake.discoveryHook = () => (n++ === 0 ? odata(500, 'InternalError', 'oops') : undefined);
    const client = fakeClient(fake);
    try {
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 2, scep: 1 });
    } finally {
      await client.close();
    }
  });

  it('ok/configurable-versions: api-version and Graph version from options', async () => {
    const client = fakeClient(fake, { scepServiceVersion: '2099-01-01', graphApiVersion: 'v1.0' });
    try {
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      assert.equal(fake.of('scep')[0]?.headers['api-version'], '2099-01-01');
      assert.equal(fake.of('discovery').length, 1);
    } finally {
      await client.close();
    }
  });

  it('fail/untrusted-tls: without the extra CA the self-signed fake is refused (verification stays on)', async () => {
    const client = fakeClient(fake, { ca: undefined, retry: { attempts: 1 } });
    try {
      const err = await rejection(new IntuneScepValidator(client).validateRequest('tx', CSR));
      assert.ok(err instanceof IntuneTokenError);
      assert.equal(err.code, 'TOKEN_ENDPOINT_UNREACHABLE');
      assert.equal(fake.requests.length, 0);
    } finally {
      await client.close();
    }
  });

  it('ok/custom-dispatcher: used for every call and left open by close()', async () => {
    const dispatcher = new Agent({ connect: { ca: fake.caPem } });
    try {
      const client = fakeClient(fake, { ca: undefined, dispatcher });
      await new IntuneScepValidator(client).validateRequest('tx', CSR);
      await client.close();
      assert.deepEqual(fake.counts(), { openid: 1, token: 2, discovery: 1, scep: 1 });
      const again = fakeClient(fake, { ca: undefined, dispatcher });
      await new IntuneScepValidator(again).validateRequest('tx', CSR);
      assert.equal(fake.of('scep').length, 2);
    } finally {
      await dispatcher.close();
    }
  });
});
