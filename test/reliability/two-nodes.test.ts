/*
 * Two `scepkit serve` processes, one CA (the second's data directory is a copy of the first's), one PostgreSQL
 * database and schema. Concurrent load on both: no serial twice; the same request sent to both at once is issued
 * once (both answer with the same certificate); a revocation through the CLI against the shared store is seen by
 * the other node's OCSP responder and CRL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCEPKIT, openssl, requireTools, run, tempDir } from '../support/tools.js';
import {
  NO_RATE_LIMIT,
  getCaCert,
  httpRequest,
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
import {
  allCertificates,
  dropSchema,
  openStore,
  requirePostgres,
  storeConfig,
  uniqueSchema,
} from './stores.js';

/** Requests sent to one node only, and requests sent to both at once. */
const SINGLE = 80;
const DOUBLE = 20;

async function enroll(url: string, ca: CaView, req: PreparedRequest): Promise<Uint8Array> {
  const ans = await pkiOperation(url, req.der, 'POST', 30_000);
  assert.equal(ans.status, 200, `HTTP ${ans.status} from ${url}`);
  const rep = await readReply(ca, req, ans.body);
  assert.equal(rep.status, 'SUCCESS', `${rep.status} ${rep.failInfo ?? ''}`);
  const der = issuedTo(rep, req.device);
  assert.ok(der);
  return der;
}

describe('two scepkit nodes on one PostgreSQL schema', () => {
  let skip: string | undefined;
  const schema = uniqueSchema('twonodes');
  let a: ScepkitProcess | undefined;
  let b: ScepkitProcess | undefined;
  let dirA: string;
  let ca: CaView;
  let single: PreparedRequest[];
  let double: PreparedRequest[];

  before(async () => {
    skip = (await requirePostgres()) ?? requireTools('openssl');
    if (skip) return;
    const root = tempDir('two-nodes');
    dirA = join(root, 'a');
    a = await spawnScepkit(dirA, {
      server: NO_RATE_LIMIT,
      store: storeConfig('postgres', schema),
      endpoints: [{ path: '/scep', challenge: { type: 'static' } }],
      log: { level: 'warn' },
    });
    // Same keys, same configuration: the second node of one CA.
    cpSync(dirA, join(root, 'b'), { recursive: true });
    b = await spawnScepkit(join(root, 'b'));
    ca = await getCaCert(`${a.url}/scep`);
    const caB = await getCaCert(`${b.url}/scep`);
    assert.ok(Buffer.from(caB.ca).equals(Buffer.from(ca.ca)), 'both nodes are the same CA');
    const challenge = readFileSync(join(dirA, 'secrets', 'static-challenge'), 'utf8').trim();
    const keys = await Promise.all([0, 1, 2].map(() => rsaKeys()));
    const reqs = await pool([...Array(SINGLE + DOUBLE).keys()], 8, async (i) =>
      prepare(
        ca,
        await makeDevice({ subject: `CN=node-${i},O=scepkit`, challenge, keys: keys[i % keys.length]! }),
        undefined,
        `two-nodes-${i}`,
      ),
    );
    single = reqs.slice(0, SINGLE);
    double = reqs.slice(SINGLE);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (!skip) await dropSchema(schema);
  });

  it(
    'ok/concurrent-load-on-both-no-duplicate-serial-no-double-issuance',
    { skip, timeout: 80_000 },
    async () => {
      const urls = [`${a!.url}/scep`, `${b!.url}/scep`];
      const jobs: (() => Promise<void>)[] = [
        ...single.map((r, i) => async () => void (await enroll(urls[i % 2]!, ca, r))),
        // The same bytes to both nodes at the same moment (a client retrying through a load balancer).
        ...double.map((r) => async () => {
          const [x, y] = await Promise.all(urls.map((u) => enroll(u, ca, r)));
          assert.ok(
            Buffer.from(x!).equals(Buffer.from(y!)),
            `${r.transactionId}: both nodes answer one certificate`,
          );
        }),
      ];
      await pool(jobs, 24, (job) => job());

      const store = openStore('postgres', dirA, schema);
      try {
        const all = await allCertificates(store);
        assert.equal(new Set(all.map((c) => c.serial)).size, all.length, 'no serial twice');
        assert.equal(all.length, SINGLE + DOUBLE, 'one certificate per transaction');
        for (const r of double) {
          const forTx = await store.searchCertificates({ transactionId: r.transactionId });
          assert.equal(forTx.length, 1, `${r.transactionId} issued once`);
        }
      } finally {
        await store.close();
      }
    },
  );

  it('ok/revocation-through-the-cli-seen-by-the-other-node', { skip, timeout: 60_000 }, async () => {
    const work = tempDir('two-nodes-revoke');
    const cert = await enroll(`${a!.url}/scep`, ca, double[0]!);
    const serial = serialOf(cert);
    const certFile = join(work, 'cert.pem');
    const caFile = join(dirA, 'ca', 'ca.cert.pem');
    writeFileSync(
      certFile,
      `-----BEGIN CERTIFICATE-----\n${Buffer.from(cert).toString('base64')}\n-----END CERTIFICATE-----\n`,
    );
    const ocsp = () =>
      openssl(['ocsp', '-issuer', caFile, '-cert', certFile, '-url', `${b!.url}/ocsp`, '-CAfile', caFile]);
    assert.match(ocsp(), /: good/);

    const r = await run(process.execPath, [
      SCEPKIT,
      '-c',
      join(dirA, 'scepkit.json'),
      'certs',
      'revoke',
      serial,
      '--reason',
      'keyCompromise',
    ]);
    assert.equal(r.status, 0, r.stdout + r.stderr);

    // Node B never saw the revocation request: it reads the shared store.
    assert.match(ocsp(), /: revoked/);
    const crlRes = await httpRequest(`${b!.url}/crl`);
    assert.equal(crlRes.status, 200);
    const crlFile = join(work, 'crl.der');
    writeFileSync(crlFile, crlRes.body);
    const text = openssl(['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    assert.match(text.toLowerCase().replace(/:/g, ''), new RegExp(`serial number 0*${serial}\\n`));
  });
});
