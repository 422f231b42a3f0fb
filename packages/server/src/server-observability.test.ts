import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createScepServer } from './server.js';
import type { ScepServer } from './server.js';
import { enroll } from './testing/client.js';
import { FakeBackend } from './testing/fake-backend.js';
import { identity, singleCaPki } from './testing/fixtures.js';

const ca = identity('Test CA');
const CHALLENGE = 'Sup3r-Secret-Challenge-value';

function metricValue(text: string, name: string, labels: string): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels}}`) || l === `${name} ` || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('server logs and metrics', () => {
  const lines: string[] = [];
  const backend = new FakeBackend(ca.cert);
  backend.challenge = CHALLENGE;
  let server: ScepServer;
  let base: string;
  before(async () => {
    server = createScepServer({
      // The test process blocks its event loop (key generation) between requests; a longer server keep-alive keeps
      // fetch from reusing a socket the server has just closed (ECONNRESET).
      limits: { keepAliveTimeout: 120_000 },
      endpoints: [{ path: '/scep', backend, pki: singleCaPki(ca) }],
      logger: pino({ level: 'info' }, { write: (s: string) => lines.push(s) }),
      rateLimit: false,
    });
    base = await server.listen();
  });
  after(() => server.close());

  async function metrics(): Promise<string> {
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    return r.text();
  }

  it('ok/one-json-line-per-request-without-secrets', async () => {
    lines.length = 0;
    const post = await enroll({
      base,
      path: '/scep',
      recipient: ca.cert,
      trustedSigners: [ca.cert],
      challenge: CHALLENGE,
    });
    const get = await enroll({
      base,
      path: '/scep/pkiclient.exe',
      recipient: ca.cert,
      trustedSigners: [ca.cert],
      challenge: CHALLENGE,
      transport: { method: 'GET', encoding: 'percent' },
    });
    await new Promise((r) => setImmediate(r)); // onResponse runs after the reply is sent
    assert.equal(lines.length, 2);
    const all = lines.join('');
    assert.ok(!all.includes(CHALLENGE), 'no challenge');
    assert.ok(!all.includes('message='), 'no PKIOperation query string');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const [i, e] of entries.entries()) {
      assert.equal(e.op, 'PKIOperation');
      assert.equal(e.status, 200);
      assert.equal(e.pkiStatus, 'SUCCESS');
      assert.equal(e.messageType, 'PKCSReq');
      assert.equal(e.transactionId, [post, get][i]!.transactionId);
      assert.equal(e.remoteAddress, '127.0.0.1');
      assert.equal(typeof e.durationMs, 'number');
      assert.equal(e.err, undefined);
    }
    assert.equal(entries[0]!.path, '/scep');
    assert.equal(entries[1]!.path, '/scep/pkiclient.exe');
  });

  it('ok/refusal-logs-failInfo-and-fault-logs-err', async () => {
    lines.length = 0;
    await enroll({
      base,
      path: '/scep',
      recipient: ca.cert,
      trustedSigners: [ca.cert],
      challenge: 'nope-nope',
    });
    backend.fault = new Error('database is down');
    try {
      await assert.rejects(
        enroll({ base, path: '/scep', recipient: ca.cert, trustedSigners: [ca.cert], challenge: CHALLENGE }),
        /HTTP 500/,
      );
    } finally {
      backend.fault = undefined;
    }
    await new Promise((r) => setImmediate(r));
    const [refused, fault] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(refused?.pkiStatus, 'FAILURE');
    assert.equal(refused?.failInfo, 'badRequest');
    assert.equal(fault?.status, 500);
    assert.match(JSON.stringify(fault?.err), /database is down/);
    assert.ok(!lines.join('').includes(CHALLENGE));
  });

  it('ok/metrics-counters-move', async () => {
    const before = await metrics();
    const ok = 'operation="PKIOperation",outcome="SUCCESS"';
    const caps = 'operation="GetCACaps",outcome="ok"';
    const bad = 'operation="unknown",outcome="rejected"';
    await enroll({
      base,
      path: '/scep',
      recipient: ca.cert,
      trustedSigners: [ca.cert],
      challenge: CHALLENGE,
    });
    await fetch(`${base}/scep?operation=GetCACaps`);
    await fetch(`${base}/scep?operation=Whatever`);
    const after = await metrics();
    assert.equal(
      metricValue(after, 'scepkit_requests_total', ok),
      metricValue(before, 'scepkit_requests_total', ok) + 1,
    );
    assert.equal(
      metricValue(after, 'scepkit_requests_total', caps),
      metricValue(before, 'scepkit_requests_total', caps) + 1,
    );
    assert.equal(
      metricValue(after, 'scepkit_requests_total', bad),
      metricValue(before, 'scepkit_requests_total', bad) + 1,
    );
    assert.equal(
      metricValue(after, 'scepkit_certificates_issued_total', ''),
      metricValue(before, 'scepkit_certificates_issued_total', '') + 1,
    );
    assert.match(after, /scepkit_enrollment_duration_seconds_count\{outcome="SUCCESS"\} \d+/);
    assert.match(after, /scepkit_certificates_revoked_total 0/);
    assert.match(after, /^process_cpu_user_seconds_total \d/m);
    assert.ok(!after.includes('Whatever'), 'client strings never become labels');
  });
});
