/*
 * PostgreSQL going away under load, two ways: (1) a TCP proxy the test controls cuts every open connection and
 * refuses new ones, on the shared cluster; (2) a real restart of a private cluster of the test's own: killed
 * without a checkpoint (`pg_ctl stop -m immediate`, like a crash), down for a while, started again (WAL replay).
 * During the outage every request fails cleanly (HTTP 503 with Retry-After, or a signed CertRep FAILURE; never a
 * 500, no hang, no crash);
 * afterwards the same requests succeed; nothing is lost.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tools.js';
import {
  NO_RATE_LIMIT,
  PG_URL,
  getCaCert,
  issuedTo,
  makeDevice,
  pkiOperation,
  pool,
  prepare,
  readReply,
  rsaKeys,
  serialOf,
  spawnScepkit,
} from './harness.js';
import type { CaView, PreparedRequest, ScepkitProcess } from './harness.js';
import { PrivatePostgres, requirePrivatePostgres } from './private-postgres.js';
import { checkInvariants, dropSchema, openStore, requirePostgres, uniqueSchema } from './stores.js';
import type { Received } from './stores.js';

const PER_PHASE = 30;
const PROFILE = 'default';

/** A TCP proxy to PostgreSQL that can drop every connection and refuse new ones. */
class FlakyProxy {
  readonly #server: net.Server;
  readonly #open = new Set<net.Socket>();
  #down = false;
  cut = 0;

  constructor(target: { host: string; port: number }) {
    this.#server = net.createServer((client) => {
      if (this.#down) return void client.destroy();
      const upstream = net.connect(target);
      for (const s of [client, upstream]) {
        this.#open.add(s);
        s.on('close', () => this.#open.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return (this.#server.address() as AddressInfo).port;
  }
  down(): void {
    if (this.#down) return;
    this.#down = true;
    this.cut += this.#open.size;
    for (const s of this.#open) s.destroy();
  }
  up(): void {
    this.#down = false;
  }
  async close(): Promise<void> {
    this.down();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

type Answer = { kind: 'cert'; der: Uint8Array } | { kind: 'failed'; how: string };

async function send(url: string, ca: CaView, req: PreparedRequest): Promise<Answer> {
  // A network error or timeout propagates: the server must answer even without its database.
  const ans = await pkiOperation(url, req.der, 'POST', 20_000);
  if (ans.status === 503) {
    assert.equal(ans.retryAfter, '10', 'a 503 says when to retry');
    return { kind: 'failed', how: 'HTTP 503' };
  }
  assert.equal(ans.status, 200, `HTTP ${ans.status}`);
  const rep = await readReply(ca, req, ans.body);
  if (rep.status === 'FAILURE') return { kind: 'failed', how: `FAILURE ${rep.failInfo}` };
  assert.equal(rep.status, 'SUCCESS');
  return { kind: 'cert', der: issuedTo(rep, req.device)! };
}

interface Outage {
  /** Takes the database away (may block while it stops). */
  down(): void;
  /** Brings it back. */
  up(): void;
  /** What happened, for the diagnostic line. */
  describe(): string;
}

/**
 * Before: all issued. During: the database goes away while requests are in flight; each gets a clean answer and
 * the server stays up. After: the failed requests, re-sent, and new ones are issued; the store holds every
 * certificate a client received, without duplicates.
 */
async function outageScenario(
  t: { diagnostic(message: string): void },
  o: { s: ScepkitProcess; dataDir: string; schema: string; storeUrl: string; outage: Outage; tag: string },
): Promise<void> {
  const { s, outage } = o;
  const url = `${s.url}/scep`;
  const ca = await getCaCert(url);
  const challenge = readFileSync(join(o.dataDir, 'secrets', 'static-challenge'), 'utf8').trim();
  const keys = await Promise.all([0, 1, 2].map(() => rsaKeys()));
  const reqs = await pool([...Array(3 * PER_PHASE).keys()], 8, async (i) =>
    prepare(
      ca,
      await makeDevice({ subject: `CN=${o.tag}-${i},O=scepkit`, challenge, keys: keys[i % 3]! }),
      undefined,
      `${o.tag}-${i}`,
    ),
  );
  const received: Received[] = [];
  const keep = (r: PreparedRequest, a: Answer) => {
    assert.equal(a.kind, 'cert', `${r.transactionId}: ${JSON.stringify(a)}`);
    if (a.kind === 'cert')
      received.push({
        transactionId: r.transactionId,
        profile: PROFILE,
        der: a.der,
        serial: serialOf(a.der),
      });
  };

  await pool(reqs.slice(0, PER_PHASE), 10, async (r) => keep(r, await send(url, ca, r)));

  // The cut comes after 30 ms or 3 answers, whichever first: some requests are mid-way, the rest start after.
  const during = reqs.slice(PER_PHASE, 2 * PER_PHASE);
  let answeredDuring = 0;
  let isDown = false;
  const takeDown = () => {
    if (isDown) return;
    isDown = true;
    outage.down();
  };
  const inFlight = pool(during, 10, async (r) => {
    const a = await send(url, ca, r);
    if (++answeredDuring === 3) takeDown();
    return a;
  });
  await new Promise((r) => setTimeout(r, 30));
  takeDown();
  const outageAnswers = await inFlight.catch((err: unknown) => {
    throw new Error(`no answer during the outage (server ${s.exited() ? 'exited' : 'up'}):\n${s.output()}`, {
      cause: err,
    });
  });
  const failed = outageAnswers.filter((a) => a.kind === 'failed');
  // Those answered before the cut were issued: they count as received.
  for (const [i, a] of outageAnswers.entries()) if (a.kind === 'cert') keep(during[i]!, a);
  assert.ok(failed.length > 0, 'the outage was felt');
  assert.ok(!s.exited(), 'the server survived the outage');

  outage.up();
  const retry = during.filter((_, i) => outageAnswers[i]!.kind === 'failed');
  const afterwards = [...retry, ...reqs.slice(2 * PER_PHASE)];
  const deadline = Date.now() + 20_000;
  await pool(afterwards, 10, async (r) => {
    // The first requests after the outage may still meet a dead pooled connection: bounded retries.
    for (;;) {
      const a = await send(url, ca, r);
      if (a.kind === 'cert' || Date.now() > deadline) return keep(r, a);
      await new Promise((res) => setTimeout(res, 200));
    }
  });
  t.diagnostic(
    `${outage.describe()}: ${failed.length} requests failed cleanly ` +
      `(${[...new Set(failed.map((a) => (a.kind === 'failed' ? a.how : '')))].join(', ')}), all re-sent and issued`,
  );

  const store = openStore('postgres', o.dataDir, o.schema, o.storeUrl);
  try {
    assert.equal(await checkInvariants(store, received), 0, 'nothing lost');
    assert.equal(received.length, 3 * PER_PHASE);
  } finally {
    await store.close();
  }
}

function startOnPostgres(dataDir: string, url: string, schema: string): Promise<ScepkitProcess> {
  return spawnScepkit(dataDir, {
    server: NO_RATE_LIMIT,
    store: { type: 'postgres', url, schema },
    endpoints: [{ path: '/scep', profile: PROFILE, challenge: { type: 'static' } }],
    log: { level: 'error' },
  });
}

describe('PostgreSQL outage under load: connections cut', () => {
  let skip: string | undefined;
  const schema = uniqueSchema('pgoutage');
  let proxy: FlakyProxy;
  let s: ScepkitProcess | undefined;
  const dataDir = tempDir('pg-outage');

  before(async () => {
    skip = await requirePostgres();
    if (skip) return;
    const target = new URL(PG_URL);
    proxy = new FlakyProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(PG_URL);
    viaProxy.host = `127.0.0.1:${await proxy.listen()}`;
    s = await startOnPostgres(dataDir, viaProxy.toString(), schema);
  });
  after(async () => {
    await s?.stop();
    await proxy?.close();
    if (!skip) await dropSchema(schema);
  });

  it('ok/fails-cleanly-during-the-outage-succeeds-after-nothing-lost', { skip, timeout: 80_000 }, (t) =>
    outageScenario(t, {
      s: s!,
      dataDir,
      schema,
      storeUrl: PG_URL,
      tag: 'pg-outage',
      outage: {
        down: () => proxy.down(),
        up: () => proxy.up(),
        describe: () => `outage: ${proxy.cut} connections cut`,
      },
    }),
  );
});

describe('PostgreSQL outage under load: the server crashes and restarts', () => {
  const skip = requirePrivatePostgres();
  const schema = 'scepkit';
  let pg: PrivatePostgres | undefined;
  let s: ScepkitProcess | undefined;
  const dataDir = tempDir('pg-restart');

  before(async () => {
    if (skip) return;
    pg = await PrivatePostgres.create();
    s = await startOnPostgres(dataDir, pg.url, schema);
  });
  after(async () => {
    await s?.stop();
    await pg?.close();
  });

  it('ok/real-restart-fails-cleanly-then-succeeds-nothing-lost', { skip, timeout: 120_000 }, async (t) => {
    let downMs = 0;
    let downAt = 0;
    try {
      await outageScenario(t, {
        s: s!,
        dataDir,
        schema,
        storeUrl: pg!.url,
        tag: 'pg-restart',
        outage: {
          down: () => {
            downAt = Date.now();
            pg!.stop('immediate');
          },
          up: () => {
            pg!.start();
            downMs = Date.now() - downAt;
          },
          describe: () => `PostgreSQL killed (stop -m immediate) and restarted, down ${downMs} ms`,
        },
      });
    } catch (err) {
      throw new Error(`${String(err)}\nPostgreSQL log:\n${pg!.log().slice(-3000)}`, { cause: err });
    }
  });
});
