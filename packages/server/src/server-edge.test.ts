import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  buildEnvelopedData,
  buildPkiRequest,
  buildSignedData,
  CONTENT_TYPES,
  decodeCertRep,
  keyObjectDecrypter,
  keyObjectSigner,
  parseCertsOnly,
  parseSignedData,
  readCsr,
  selfSignedCertificate,
  verifySignedData,
} from '@scepkit/scep';
import { StoreError } from '@scepkit/ca';
import { ServerError } from './errors.js';
import { UNAVAILABLE_RETRY_AFTER_S, createScepServer } from './server.js';
import type { ScepServer } from './server.js';
import { buildCsr } from './testing/der.js';
import { caCertificates, clientKey, enroll, sendPkiOperation } from './testing/client.js';
import { FakeBackend } from './testing/fake-backend.js';
import { identity, singleCaPki } from './testing/fixtures.js';

const ca = identity('Test CA');
const root = identity('Test Root');
const ra = identity('Test RA');
const nextCa = identity('Test Next CA');

describe('server HTTP edge (fake backend)', () => {
  const backend = new FakeBackend(ca.cert);
  let server: ScepServer;
  let base: string;

  before(async () => {
    server = createScepServer({
      endpoints: [
        { path: '/scep', backend, pki: singleCaPki(ca) },
        {
          path: '/scep/ra',
          backend,
          pki: {
            caChain: [ca.cert, root.cert],
            raCertificates: [ra.cert],
            signer: keyObjectSigner(ra.cert, ra.key),
            decrypters: [keyObjectDecrypter(ra.cert, ra.key)],
            nextCaChain: [nextCa.cert, root.cert],
          },
        },
      ],
      limits: {
        bodyLimit: 64 * 1024,
        headersTimeout: 300,
        requestTimeout: 800,
        connectionsCheckingInterval: 100,
      },
      rateLimit: false,
      metrics: { defaultMetrics: false },
    });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => server.close());

  it('ok/GetCACaps', async () => {
    const r = await fetch(`${base}/scep?operation=GetCACaps&message=default`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const caps = (await r.text()).trim().split('\n');
    for (const c of [
      'POSTPKIOperation',
      'Renewal',
      'SHA-512',
      'SHA-256',
      'SHA-1',
      'AES',
      'DES3',
      'SCEPStandard',
    ]) {
      assert.ok(caps.includes(c), c);
    }
    assert.ok(!caps.includes('GetNextCACert'));
    const r2 = await fetch(`${base}/scep/ra/pkiclient.exe?operation=GetCACaps`);
    assert.ok((await r2.text()).split('\n').includes('GetNextCACert'));
  });

  for (const message of ['ca', 'default', 'SCEP%20Authority', '0']) {
    it(`ok/GetCACert-single-message-${message}`, async () => {
      const r = await fetch(`${base}/scep/pkiclient.exe?operation=GetCACert&message=${message}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), CONTENT_TYPES.caCert);
      assert.deepEqual(new Uint8Array(await r.arrayBuffer()), ca.cert);
    });
  }

  it('ok/GetCACert-ra-mode-includes-ra-and-root', async () => {
    const r = await fetch(`${base}/scep/ra?operation=GetCACert&message=ca`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), CONTENT_TYPES.caRaCert);
    const certs = caCertificates(CONTENT_TYPES.caRaCert, new Uint8Array(await r.arrayBuffer()));
    assert.deepEqual(certs, [ra.cert, ca.cert, root.cert]);
  });

  it('ok/GetNextCACert-signed-by-ra', async () => {
    const r = await fetch(`${base}/scep/ra?operation=GetNextCACert`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), CONTENT_TYPES.nextCaCert);
    const parsed = parseSignedData(new Uint8Array(await r.arrayBuffer()));
    const v = verifySignedData(parsed, [ra.cert]);
    assert.deepEqual(v.signerCertificate.der, ra.cert);
    assert.ok(parsed.content);
    assert.deepEqual(parseCertsOnly(parsed.content).certificates, [nextCa.cert, root.cert]);
  });

  it('fail/GetNextCACert-without-rollover-404', async () => {
    const r = await fetch(`${base}/scep?operation=GetNextCACert`);
    assert.equal(r.status, 404);
    assert.match(await r.text(), /no rollover CA/);
  });

  it('fail/unknown-or-missing-operation-400', async () => {
    for (const q of ['?operation=GetFoo', '', '?message=x', '?operation=%zz']) {
      const r = await fetch(`${base}/scep${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    }
  });

  it('fail/garbage-POST-400', async () => {
    for (const body of [Buffer.from('hello'), Buffer.from([0x30, 0x82, 0xff, 0xff, 0x01]), Buffer.alloc(0)]) {
      const r = await fetch(`${base}/scep?operation=PKIOperation`, { method: 'POST', body });
      assert.equal(r.status, 400);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    }
    const g = await fetch(`${base}/scep?operation=PKIOperation&message=!!!notbase64`);
    assert.equal(g.status, 400);
    const m = await fetch(`${base}/scep?operation=PKIOperation`);
    assert.equal(m.status, 400);
  });

  it('fail/oversized-body-413', async () => {
    const r = await fetch(`${base}/scep?operation=PKIOperation`, {
      method: 'POST',
      body: Buffer.alloc(65 * 1024, 0x30),
      headers: { 'content-type': CONTENT_TYPES.pkiMessage },
    });
    assert.equal(r.status, 413);
  });

  it('fail/url-too-long-414-headers-too-large-431', async () => {
    const r = await fetch(`${base}/scep?operation=PKIOperation&message=${'A'.repeat(70 * 1024)}`);
    assert.equal(r.status, 414);
    const r2 = await fetch(`${base}/scep?operation=PKIOperation&message=${'A'.repeat(100 * 1024)}`);
    assert.equal(r2.status, 431);
  });

  it('ok/trailing-and-duplicate-slashes', async () => {
    for (const p of ['/scep/', '/scep//pkiclient.exe', '/scep/ra/']) {
      const r = await fetch(`${base}${p}?operation=GetCACaps`);
      assert.equal(r.status, 200, p);
    }
  });

  it('fail/unknown-path-404', async () => {
    const r = await fetch(`${base}/scep/nope/pkiclient.exe?operation=GetCACaps`);
    assert.equal(r.status, 404);
  });

  for (const contentType of [
    undefined,
    'application/x-www-form-urlencoded',
    'application/json',
    'text/plain',
  ]) {
    it(`ok/post-PKIOperation-content-type-${contentType ?? 'none'}`, async () => {
      const out = await enroll({
        base,
        path: '/scep',
        recipient: ca.cert,
        trustedSigners: [ca.cert],
        challenge: 'secret',
        transport: { method: 'POST', ...(contentType ? { contentType } : {}) },
      });
      assert.equal(out.http.headers.get('content-type'), CONTENT_TYPES.pkiMessage);
      assert.equal(out.rep.status, 'SUCCESS');
      assert.deepEqual(out.rep.certificates[0], ca.cert);
    });
  }

  it('fail/wrong-challenge-signed-FAILURE-badRequest', async () => {
    const out = await enroll({
      base,
      path: '/scep',
      recipient: ca.cert,
      trustedSigners: [ca.cert],
      challenge: 'WRONG',
    });
    assert.equal(out.http.status, 200);
    assert.equal(out.rep.status, 'FAILURE');
    assert.equal(out.rep.failInfo, 'badRequest');
    assert.equal(out.rep.failInfoText, 'Transaction not permitted or supported');
    assert.deepEqual(out.rep.message.signerCertificate, ca.cert);
  });

  it('fail/encrypted-to-another-CA-signed-FAILURE-badMessageCheck', async () => {
    const other = identity('Other CA');
    const out = await enroll({
      base,
      path: '/scep',
      recipient: other.cert,
      trustedSigners: [ca.cert],
      challenge: 'secret',
    });
    assert.equal(out.rep.status, 'FAILURE');
    assert.equal(out.rep.failInfo, 'badMessageCheck');
  });

  it('fail/unsupported-content-cipher-signed-FAILURE-badAlg', async () => {
    // An authenticated request whose envelope names AES-256-GCM (2.16.840.1.101.3.4.1.46), which SCEP does not
    // use: re-sign a real request over the patched envelope with the same SCEP attributes.
    const key = clientKey();
    const csr = buildCsr({ cn: 'alg', key, challenge: 'secret' });
    const signerCert = selfSignedCertificate({ subject: readCsr(csr).subject, privateKey: key });
    const signer = keyObjectSigner(signerCert, key);
    const good = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr },
      signer,
      recipients: [ca.cert],
    });
    const envelope = Buffer.from(
      buildEnvelopedData(csr, [ca.cert], { cipher: 'aes-256-cbc', keyTransport: 'rsa-pkcs1' }),
    );
    const aes256cbc = Buffer.from('060960864801650304012a', 'hex');
    const at = envelope.indexOf(aes256cbc);
    assert.ok(at > 0);
    envelope[at + aes256cbc.length - 1] = 0x2e;
    const attrs = parseSignedData(good.der).signedData.signerInfos[0]!.signedAttrs!.attributes.filter(
      (a) => a.type !== '1.2.840.113549.1.9.3' && a.type !== '1.2.840.113549.1.9.4',
    );
    const der = await buildSignedData({ signer, digest: 'sha256', attributes: attrs, content: envelope });
    const r = await sendPkiOperation(base, '/scep', der);
    assert.equal(r.status, 200);
    const rep = await decodeCertRep(new Uint8Array(await r.arrayBuffer()), {
      decrypter: keyObjectDecrypter(signerCert, key),
      expect: { transactionId: good.transactionId, senderNonce: good.senderNonce },
      trustedSigners: [ca.cert],
    });
    assert.equal(rep.status, 'FAILURE');
    assert.equal(rep.failInfo, 'badAlg');
  });

  async function faultedEnrollment(fault: Error): Promise<Response> {
    backend.fault = fault;
    try {
      const key = clientKey();
      const csr = buildCsr({ cn: 'x', key, challenge: 'secret' });
      const signerCert = selfSignedCertificate({ subject: readCsr(csr).subject, privateKey: key });
      const req = await buildPkiRequest({
        body: { messageType: 'PKCSReq', csr },
        signer: keyObjectSigner(signerCert, key),
        recipients: [ca.cert],
      });
      return await sendPkiOperation(base, '/scep', req.der);
    } finally {
      backend.fault = undefined;
    }
  }

  it('fail/backend-fault-500', async () => {
    const r = await faultedEnrollment(new Error('store down'));
    assert.equal(r.status, 500);
    assert.equal(r.headers.get('retry-after'), null);
    assert.equal(await r.text(), 'internal error\n');
  });

  it('fail/database-out-of-reach-is-503-with-retry-after', async () => {
    const driver = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const r = await faultedEnrollment(new StoreError('unavailable', 'PostgreSQL is unavailable', driver));
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), String(UNAVAILABLE_RETRY_AFTER_S));
    assert.equal(await r.text(), 'service unavailable, retry later\n');
    // Any other store fault is ours: 500.
    const other = await faultedEnrollment(new StoreError('database', 'SQLite error'));
    assert.equal(other.status, 500);
  });

  describe('reply built while the backend stores the certificate (onSigned)', () => {
    const other = identity('Other issued certificate');
    const signs: number[] = [];
    let counting: ScepServer;
    let countingBase: string;
    before(async () => {
      const signer = keyObjectSigner(ca.cert, ca.key);
      counting = createScepServer({
        endpoints: [
          {
            path: '/scep',
            backend,
            pki: {
              ...singleCaPki(ca),
              signer: {
                certificate: signer.certificate,
                keyType: signer.keyType,
                sign: (data, digest) => (signs.push(1), signer.sign(data, digest)),
              },
            },
          },
        ],
        rateLimit: false,
        metrics: { defaultMetrics: false },
      });
      countingBase = await counting.listen({ host: '127.0.0.1', port: 0 });
    });
    after(() => counting.close());
    const run = (o: { signed: Uint8Array[][]; fault?: Error; challenge?: string }) => {
      backend.signed = o.signed;
      backend.fault = o.fault;
      signs.length = 0;
      return enroll({
        base: countingBase,
        path: '/scep',
        recipient: ca.cert,
        trustedSigners: [ca.cert],
        challenge: o.challenge ?? 'secret',
      }).finally(() => {
        backend.signed = [];
        backend.fault = undefined;
      });
    };

    it('ok/prepared-reply-sent-when-the-same-certificate-is-issued', async () => {
      const out = await run({ signed: [[ca.cert]] });
      assert.equal(out.rep.status, 'SUCCESS');
      assert.deepEqual(out.rep.certificates[0], ca.cert);
      assert.equal(signs.length, 1, 'one CertRep signed: the prepared one');
    });

    it('ok/prepared-reply-for-another-certificate-never-sent', async () => {
      // A serial retry (or any change) after onSigned: the answer carries what enroll resolved with.
      const out = await run({ signed: [[other.cert], [other.cert, root.cert]] });
      assert.equal(out.rep.status, 'SUCCESS');
      assert.deepEqual(out.rep.certificates, [ca.cert]);
      assert.equal(signs.length, 3, 'two prepared and discarded, one built for the issued certificate');
    });

    it('fail/refused-after-signing-answers-FAILURE-not-the-certificate', async () => {
      const out = await run({
        signed: [[ca.cert]],
        fault: Object.assign(new Error('notification failed'), { failInfo: 'badRequest' as const }),
      });
      assert.equal(out.rep.status, 'FAILURE');
      assert.equal(out.rep.failInfo, 'badRequest');
      assert.equal(out.rep.certificates.length, 0);
    });

    it('fail/fault-after-signing-is-500-without-the-certificate', async () => {
      backend.signed = [[ca.cert]];
      const r = await faultedEnrollment(new Error('store down'));
      backend.signed = [];
      assert.equal(r.status, 500);
      assert.equal(await r.text(), 'internal error\n');
    });
  });

  it('ok/backend-sees-endpoint-name-and-address', async () => {
    backend.requests.length = 0;
    await enroll({
      base,
      path: '/scep/ra/pkiclient.exe',
      recipient: ra.cert,
      trustedSigners: [ra.cert],
      challenge: 'secret',
    });
    assert.equal(backend.requests[0]?.endpoint, 'ra');
    assert.equal(backend.requests[0]?.messageType, 'PKCSReq');
    assert.equal(backend.requests[0]?.remoteAddress, '127.0.0.1');
  });

  it('ok/crl-headers-and-304', async () => {
    const r = await fetch(`${base}/crl`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/pkix-crl');
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), backend.crl.der);
    assert.equal(r.headers.get('last-modified'), backend.crl.thisUpdate.toUTCString());
    const maxAge = Number(/max-age=(\d+)/.exec(r.headers.get('cache-control') ?? '')?.[1]);
    assert.ok(maxAge > 3500 && maxAge <= 3600, String(maxAge));
    const etag = r.headers.get('etag');
    assert.ok(etag);
    const r2 = await fetch(`${base}/crl`, { headers: { 'if-none-match': etag } });
    assert.equal(r2.status, 304);
    const r3 = await fetch(`${base}/crl`, { headers: { 'if-none-match': '"other"' } });
    assert.equal(r3.status, 200);
  });

  it('ok/ocsp-post-and-get-pass-bytes', async () => {
    const der = Buffer.from([0x30, 0x03, 0xfb, 0xff, 0x3e]); // base64 "MAP7/z4=" has '+'-free '/' and '='
    const p = await fetch(`${base}/ocsp`, {
      method: 'POST',
      body: der,
      headers: { 'content-type': 'application/ocsp-request' },
    });
    assert.equal(p.status, 200);
    assert.equal(p.headers.get('content-type'), 'application/ocsp-response');
    assert.deepEqual(Buffer.from(await p.arrayBuffer()), Buffer.from(der).reverse());
    const g = await fetch(`${base}/ocsp/${encodeURIComponent(der.toString('base64'))}`);
    assert.equal(g.status, 200);
    assert.deepEqual(Buffer.from(await g.arrayBuffer()), Buffer.from(der).reverse());
    const g2 = await fetch(`${base}/ocsp/${der.toString('base64')}`); // unescaped '/' and '='
    assert.deepEqual(Buffer.from(await g2.arrayBuffer()), Buffer.from(der).reverse());
  });

  it('ok/healthz', async () => {
    server.setDoctorResult({ ok: true, checks: 3 });
    const r = await fetch(`${base}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true, store: 'ok', intune: { ok: true, checks: 3 } });
    backend.storeUp = false;
    try {
      const r2 = await fetch(`${base}/healthz`);
      assert.equal(r2.status, 503);
      assert.equal(((await r2.json()) as { store: string }).store, 'unreachable');
    } finally {
      backend.storeUp = true;
    }
  });

  it('fail/slow-body-408', async () => {
    const { port } = new URL(base);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => {
        s.write('POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
        const drip = setInterval(() => s.write('0'), 50);
        let data = '';
        s.on('data', (d) => (data += d.toString()));
        s.on('close', () => {
          clearInterval(drip);
          resolve(data);
        });
      });
      s.on('error', reject);
    });
    assert.ok(Date.now() - started < 5000);
    assert.match(answer, /^HTTP\/1\.1 408/);
  });

  it('fail/bad-limits-rejected', () => {
    assert.throws(
      () =>
        createScepServer({
          endpoints: [{ path: '/scep', backend, pki: singleCaPki(ca) }],
          limits: { maxUrlLength: 100_000 },
        }),
      (e: unknown) => e instanceof ServerError && e.code === 'badOptions',
    );
    assert.throws(
      () => createScepServer({ endpoints: [] }),
      (e: unknown) => e instanceof ServerError && e.code === 'badOptions',
    );
    assert.throws(
      () =>
        createScepServer({
          endpoints: [
            { path: '/scep', backend, pki: { ...singleCaPki(ca), caChain: [new Uint8Array([1, 2, 3])] } },
          ],
        }),
      (e: unknown) => e instanceof ServerError && e.code === 'badMaterial',
    );
  });

  it('fail/slow-loris-socket-closed', async () => {
    const { port } = new URL(base);
    const started = Date.now();
    const closed = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => {
        s.write('GET /scep?operation=GetCACaps HTTP/1.1\r\nHost: x\r\n');
        const drip = setInterval(() => s.write('X-a: b\r\n'), 50);
        let data = '';
        s.on('data', (d) => (data += d.toString()));
        s.on('close', () => {
          clearInterval(drip);
          resolve(data);
        });
      });
      s.on('error', reject);
    });
    assert.ok(Date.now() - started < 5000);
    assert.match(closed, /^HTTP\/1\.1 408/);
  });
});

describe('server rate limit', () => {
  it('fail/rate-limited-429', async () => {
    const server = createScepServer({
      endpoints: [{ path: '/scep', backend: new FakeBackend(ca.cert), pki: singleCaPki(ca) }],
      rateLimit: { burst: 3, perSecond: 0.01 },
      metrics: { defaultMetrics: false },
    });
    try {
      const base = await server.listen();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await fetch(`${base}/scep?operation=GetCACaps`)).status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const r = await fetch(`${base}/scep?operation=GetCACaps`);
      assert.ok(Number(r.headers.get('retry-after')) > 0);
      assert.equal((await fetch(`${base}/healthz`)).status, 200, 'health is never rate limited');
    } finally {
      await server.close();
    }
  });
});

describe('server extension (admin console routes)', () => {
  it('ok/extra-routes-before-listen-keep-json-parsing', async () => {
    const server = createScepServer({
      endpoints: [{ path: '/scep', backend: new FakeBackend(ca.cert), pki: singleCaPki(ca) }],
      metrics: { defaultMetrics: false },
    });
    server.app.post('/admin/echo', async (request) => ({ got: request.body }));
    try {
      const base = await server.listen();
      const r = await fetch(`${base}/admin/echo`, {
        method: 'POST',
        body: JSON.stringify({ a: 1 }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { got: { a: 1 } });
      const caps = await fetch(`${base}/scep?operation=GetCACaps`);
      assert.equal(caps.status, 200);
    } finally {
      await server.close();
    }
  });
});
