import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  Authority,
  CrlPublisher,
  createRootCa,
  issueRaCertificate,
  OcspResponder,
  SqliteStore,
  StaticChallengeVerifier,
} from '@scepkit/ca';
import {
  buildPkiRequest,
  CONTENT_TYPES,
  decodeCertRep,
  keyObjectDecrypter,
  keyObjectSigner,
  parseCertificate,
  readCsr,
  selfSignedCertificate,
} from '@scepkit/scep';
import type { RequestBody } from '@scepkit/scep';
import pino from 'pino';
import type { RequestOptions } from '@scepkit/scep';
import { authorityBackend } from './authority-backend.js';
import { createScepServer } from './server.js';
import type { ScepServer } from './server.js';
import { caCertificates, clientKey, enroll, sendPkiOperation } from './testing/client.js';
import type { Transport } from './testing/client.js';
import { buildCsr } from './testing/der.js';
import { identity } from './testing/fixtures.js';
import { certSerial, ocspRequest, ocspStatus } from './testing/ocsp.js';

const SECRET = 'secret123';
// Intune challenges are several kB of standard base64 (PrintableString-safe): ~16 kB here.
const LONG_CHALLENGE = randomBytes(12 * 1024).toString('base64');

const spkiOf = (der: Uint8Array) =>
  parseCertificate(der).publicKey.export({ format: 'der', type: 'spki' }) as Buffer;

describe('server with the real @scepkit/ca Authority (in-memory SQLite)', () => {
  let server: ScepServer;
  let base: string;
  let store: SqliteStore;
  let authority: Authority;
  let caDer: Uint8Array;
  let raDer: Uint8Array;
  const logLines: string[] = [];

  before(async () => {
    const root = await createRootCa({
      subject: 'CN=scepkit server test CA, O=scepkit',
      key: { type: 'rsa', bits: 2048 },
      singleCaMode: true,
    });
    caDer = root.certificateDer;
    const ra = await issueRaCertificate(root.identity, { subject: 'CN=scepkit server test RA' });
    raDer = ra.certificateDer;
    store = new SqliteStore({ filename: ':memory:' });
    await store.migrate();
    const crl = new CrlPublisher({ ca: root.identity, store });
    authority = new Authority({
      ca: root.identity,
      store,
      crl,
      profiles: {
        static: { verifier: new StaticChallengeVerifier({ password: SECRET }) },
        single: { verifier: new StaticChallengeVerifier({ password: SECRET }) },
        intune: { verifier: new StaticChallengeVerifier({ password: LONG_CHALLENGE }) },
        manual: {
          verifier: new StaticChallengeVerifier({ password: SECRET }),
          policy: { manualApproval: true },
        },
      },
    });
    const backend = authorityBackend({
      authority,
      crl,
      ocsp: new OcspResponder({ ca: root.identity, store }),
      store,
    });
    const raPki = {
      caChain: [caDer],
      raCertificates: [raDer],
      signer: keyObjectSigner(raDer, ra.privateKey),
      decrypters: [keyObjectDecrypter(raDer, ra.privateKey), keyObjectDecrypter(caDer, root.privateKey)],
    };
    server = createScepServer({
      // The test process blocks its event loop (key generation) between requests; a longer server keep-alive keeps
      // fetch from reusing a socket the server has just closed (ECONNRESET).
      limits: { keepAliveTimeout: 120_000 },
      endpoints: [
        { path: '/scep/static', name: 'static', backend, pki: raPki },
        {
          path: '/scep/single',
          name: 'single',
          backend,
          pki: {
            caChain: [caDer],
            signer: keyObjectSigner(caDer, root.privateKey),
            decrypters: [keyObjectDecrypter(caDer, root.privateKey)],
          },
        },
        { path: '/scep/intune', name: 'intune', backend, pki: raPki },
        { path: '/scep/manual', name: 'manual', backend, pki: raPki },
      ],
      rateLimit: false,
      logger: pino({ level: 'info' }, { write: (l: string) => logLines.push(l) }),
      metrics: { defaultMetrics: false },
    });
    base = await server.listen();
  });
  after(async () => {
    await server.close();
    await store.close().catch(() => undefined); // already closed by the last test
  });

  it('ok/paths-served', () => {
    assert.deepEqual(server.scepPaths.get('static'), [
      '/scep/static',
      '/scep/static/pkiclient.exe',
      '/scep',
      '/scep/pkiclient.exe',
      '/cgi-bin/pkiclient.exe',
      '/certsrv/mscep/mscep.dll',
      '/certsrv/mscep/mscep.dll/pkiclient.exe',
    ]);
    assert.deepEqual(server.scepPaths.get('intune'), ['/scep/intune', '/scep/intune/pkiclient.exe']);
  });

  it('ok/GetCACert-ra-mode-and-single', async () => {
    const r = await fetch(`${base}/scep/static/pkiclient.exe?operation=GetCACert&message=default`);
    assert.equal(r.headers.get('content-type'), CONTENT_TYPES.caRaCert);
    const certs = caCertificates(CONTENT_TYPES.caRaCert, new Uint8Array(await r.arrayBuffer()));
    assert.deepEqual(certs, [raDer, caDer], 'RA first, then the chain up to the root');
    const s = await fetch(`${base}/scep/single?operation=GetCACert&message=SCEP%20Authority`);
    assert.equal(s.headers.get('content-type'), CONTENT_TYPES.caCert);
    assert.deepEqual(new Uint8Array(await s.arrayBuffer()), caDer);
  });

  const transports: Array<[string, Transport]> = [
    ['post', { method: 'POST', contentType: CONTENT_TYPES.pkiMessage }],
    ['get-percent', { method: 'GET', encoding: 'percent' }],
    ['get-base64url', { method: 'GET', encoding: 'base64url' }],
    ['get-macos-unescaped-plus', { method: 'GET', encoding: 'unescaped-plus' }],
  ];
  const aliasPaths = [
    '/scep/static',
    '/scep/static/pkiclient.exe',
    '/scep',
    '/scep/pkiclient.exe',
    '/cgi-bin/pkiclient.exe',
    '/certsrv/mscep/mscep.dll',
    '/certsrv/mscep/mscep.dll/pkiclient.exe',
  ];
  async function enrollVia(
    path: string,
    name: string,
    transport: Transport,
    request: Partial<RequestOptions> = {},
  ) {
    const out = await enroll({
      base,
      path,
      recipient: raDer,
      trustedSigners: [raDer],
      challenge: SECRET,
      cn: `dev-${name}`,
      transport,
      request: { transactionId: randomBytes(16).toString('hex'), ...request },
    });
    assert.equal(out.rep.status, 'SUCCESS', `${path} ${name}: ${out.rep.failInfo ?? ''}`);
    const [issued, ...chain] = out.rep.certificates;
    assert.ok(issued);
    assert.deepEqual(spkiOf(issued), createPublicKey(clientKey()).export({ format: 'der', type: 'spki' }));
    assert.deepEqual(chain, [caDer]);
    assert.deepEqual(parseCertificate(issued).issuer, parseCertificate(caDer).subject);
  }

  for (const [name, transport] of transports) {
    it(`ok/enroll-${name}`, () => enrollVia('/scep/static/pkiclient.exe', name, transport));
  }
  // Every alias path, each with another transport (the full product is covered above per transport).
  for (const [i, path] of aliasPaths.entries()) {
    const [name, transport] = transports[(i + 1) % transports.length]!;
    it(`ok/enroll-${name}-on-${path}`, () => enrollVia(path, name, transport));
  }

  // intune-api.md §5: Windows (POST, OAEP key transport possible, SHA-2), iOS/macOS (GET, SHA-512, 3DES),
  // micromdm/jscep-style (SHA-1, AES-128).
  it('ok/enroll-windows-like-post-oaep-sha256', () =>
    enrollVia(
      '/scep/static/pkiclient.exe',
      'windows',
      { method: 'POST', contentType: CONTENT_TYPES.pkiMessage },
      {
        keyTransport: 'rsa-oaep',
        digest: 'sha256',
        cipher: 'aes-256-cbc',
      },
    ));
  it('ok/enroll-ios-like-get-sha512-des3', () =>
    enrollVia(
      '/scep',
      'ios',
      { method: 'GET', encoding: 'unescaped-plus' },
      { digest: 'sha512', cipher: 'des-ede3-cbc' },
    ));
  it('ok/enroll-sha1-aes128', () =>
    enrollVia(
      '/cgi-bin/pkiclient.exe',
      'sha1',
      { method: 'POST' },
      { digest: 'sha1', cipher: 'aes-128-cbc' },
    ));

  it('ok/parallel-enrollments', async () => {
    await Promise.all([0, 1, 2, 3].map((i) => enrollVia('/scep', `parallel-${i}`, { method: 'POST' })));
  });

  it('ok/single-ca-mode-enroll', async () => {
    const out = await enroll({
      base,
      path: '/scep/single/pkiclient.exe',
      recipient: caDer,
      trustedSigners: [caDer],
      challenge: SECRET,
    });
    assert.equal(out.rep.status, 'SUCCESS');
    assert.deepEqual(out.rep.message.signerCertificate, caDer);
  });

  it('ok/get-PKIOperation-16kB-challenge', async () => {
    for (const encoding of ['percent', 'unescaped-plus'] as const) {
      const out = await enroll({
        base,
        path: '/scep/intune/pkiclient.exe',
        recipient: raDer,
        trustedSigners: [raDer],
        challenge: LONG_CHALLENGE,
        transport: { method: 'GET', encoding },
        request: { transactionId: randomBytes(16).toString('hex') },
      });
      assert.equal(out.rep.status, 'SUCCESS', out.rep.failInfoText);
    }
  });

  it('fail/wrong-challenge-signed-FAILURE-badRequest', async () => {
    const out = await enroll({
      base,
      path: '/scep',
      recipient: raDer,
      trustedSigners: [raDer],
      challenge: 'WRONG',
    });
    assert.equal(out.http.status, 200);
    assert.equal(out.rep.status, 'FAILURE');
    assert.equal(out.rep.failInfo, 'badRequest');
    assert.deepEqual(out.rep.message.signerCertificate, raDer);
    assert.ok(out.rep.failInfoText && !/challenge|password/i.test(out.rep.failInfoText), 'generic text');
  });

  it('fail/encrypted-to-another-CA-signed-FAILURE-badMessageCheck', async () => {
    const out = await enroll({
      base,
      path: '/scep',
      recipient: identity('Other CA').cert,
      trustedSigners: [raDer],
      challenge: SECRET,
    });
    assert.equal(out.rep.status, 'FAILURE');
    assert.equal(out.rep.failInfo, 'badMessageCheck');
  });

  it('ok/renewal-and-GetCert', async () => {
    const first = await enroll({
      base,
      path: '/scep',
      recipient: raDer,
      trustedSigners: [raDer],
      challenge: SECRET,
      cn: 'renew-me',
      request: { transactionId: randomBytes(16).toString('hex') },
    });
    const oldCert = first.rep.certificates[0]!;
    const newKey = identity('renewal key').key;
    const csr = buildCsr({ cn: 'renew-me', key: newKey });
    const req = await buildPkiRequest({
      body: { messageType: 'RenewalReq', csr },
      signer: keyObjectSigner(oldCert, clientKey()),
      recipients: [raDer],
    });
    const res = await sendPkiOperation(base, '/scep', req.der);
    const rep = await decodeCertRep(new Uint8Array(await res.arrayBuffer()), {
      decrypter: keyObjectDecrypter(oldCert, clientKey()),
      expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
      trustedSigners: [raDer],
    });
    assert.equal(rep.status, 'SUCCESS', rep.failInfoText);
    assert.deepEqual(
      spkiOf(rep.certificates[0]!),
      createPublicKey(newKey).export({ format: 'der', type: 'spki' }),
    );

    // GetCert (RFC 8894 §3.3.4): known serial -> the certificate; unknown -> badCertId.
    const getCert = async (serial: Uint8Array) => {
      const g = await buildPkiRequest({
        body: { messageType: 'GetCert', issuer: parseCertificate(caDer).subject, serial },
        signer: keyObjectSigner(oldCert, clientKey()),
        recipients: [raDer],
      });
      const r = await sendPkiOperation(base, '/scep', g.der);
      return await decodeCertRep(new Uint8Array(await r.arrayBuffer()), {
        decrypter: keyObjectDecrypter(oldCert, clientKey()),
        trustedSigners: [raDer],
      });
    };
    const known = await getCert(certSerial(oldCert));
    assert.equal(known.status, 'SUCCESS');
    assert.deepEqual(known.certificates[0], oldCert);
    const unknown = await getCert(new Uint8Array([0x42]));
    assert.equal(unknown.status, 'FAILURE');
    assert.equal(unknown.failInfo, 'badCertId');
  });

  it('ok/crl-and-ocsp-good-then-revoked', async () => {
    const out = await enroll({
      base,
      path: '/scep',
      recipient: raDer,
      trustedSigners: [raDer],
      challenge: SECRET,
      cn: 'to-revoke',
      request: { transactionId: randomBytes(16).toString('hex') },
    });
    const cert = out.rep.certificates[0]!;
    const serial = certSerial(cert);
    const ocsp = async (how: 'post' | 'get') => {
      const reqDer = ocspRequest(caDer, serial);
      const r =
        how === 'post'
          ? await fetch(`${base}/ocsp`, {
              method: 'POST',
              body: reqDer,
              headers: { 'content-type': 'application/ocsp-request' },
            })
          : await fetch(`${base}/ocsp/${encodeURIComponent(reqDer.toString('base64'))}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/ocsp-response');
      return ocspStatus(new Uint8Array(await r.arrayBuffer()));
    };
    assert.deepEqual(await ocsp('post'), { responseStatus: 0, certStatus: 'good' });
    assert.deepEqual(await ocsp('get'), { responseStatus: 0, certStatus: 'good' });

    const before = await fetch(`${base}/crl`);
    assert.equal(before.status, 200);
    assert.equal(before.headers.get('content-type'), 'application/pkix-crl');
    const etag = before.headers.get('etag')!;
    assert.ok(!Buffer.from(await before.arrayBuffer()).includes(serial));
    assert.equal((await fetch(`${base}/crl`, { headers: { 'if-none-match': etag } })).status, 304);

    assert.equal(
      await authority.revoke(Buffer.from(serial).toString('hex').replace(/^0+/, ''), 1, 'test'),
      'revoked',
    ); // keyCompromise
    assert.deepEqual(await ocsp('post'), { responseStatus: 0, certStatus: 'revoked' });
    const afterRevoke = await fetch(`${base}/crl`, { headers: { 'if-none-match': etag } });
    assert.equal(afterRevoke.status, 200, 'a new CRL has a new ETag');
    assert.ok(Buffer.from(await afterRevoke.arrayBuffer()).includes(serial));
    const malformed = await fetch(`${base}/ocsp`, { method: 'POST', body: Buffer.from('junk') });
    assert.equal(ocspStatus(new Uint8Array(await malformed.arrayBuffer())).responseStatus, 1);
  });

  it('ok/PENDING-then-CertPoll-after-approval', async () => {
    const key = clientKey();
    const csr = buildCsr({ cn: 'needs-approval', key, challenge: SECRET });
    const signerCert = selfSignedCertificate({ subject: readCsr(csr).subject, privateKey: key });
    const transactionId = randomBytes(16).toString('hex');
    const send = async (body: RequestBody) => {
      const req = await buildPkiRequest({
        body,
        signer: keyObjectSigner(signerCert, key),
        recipients: [raDer],
        transactionId,
      });
      const r = await sendPkiOperation(base, '/scep/manual/pkiclient.exe', req.der, {
        method: 'GET',
        encoding: 'percent',
      });
      assert.equal(r.status, 200);
      return await decodeCertRep(new Uint8Array(await r.arrayBuffer()), {
        decrypter: keyObjectDecrypter(signerCert, key),
        expect: { transactionId, senderNonce: req.senderNonce },
        trustedSigners: [raDer],
      });
    };
    assert.equal((await send({ messageType: 'PKCSReq', csr })).status, 'PENDING');
    const poll: RequestBody = {
      messageType: 'CertPoll',
      issuer: parseCertificate(caDer).subject,
      subject: readCsr(csr).subject,
    };
    assert.equal((await send(poll)).status, 'PENDING');
    await authority.approve({ transactionId, profile: 'manual' }, 'tester');
    const done = await send(poll);
    assert.equal(done.status, 'SUCCESS');
    assert.deepEqual(
      spkiOf(done.certificates[0]!),
      createPublicKey(key).export({ format: 'der', type: 'spki' }),
    );
  });

  it('ok/healthz-store-reachable', async () => {
    const r = await fetch(`${base}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true, store: 'ok', intune: null });
  });

  it('ok/GetCRL-over-PKIOperation', async () => {
    const key = clientKey();
    const out = await enroll({
      base,
      path: '/scep',
      recipient: raDer,
      trustedSigners: [raDer],
      challenge: SECRET,
      cn: 'crl-reader',
      request: { transactionId: randomBytes(16).toString('hex') },
    });
    const cert = out.rep.certificates[0]!;
    const g = await buildPkiRequest({
      body: { messageType: 'GetCRL', issuer: parseCertificate(caDer).subject, serial: certSerial(cert) },
      signer: keyObjectSigner(cert, key),
      recipients: [raDer],
    });
    const r = await sendPkiOperation(base, '/scep', g.der);
    const rep = await decodeCertRep(new Uint8Array(await r.arrayBuffer()), {
      decrypter: keyObjectDecrypter(cert, key),
      trustedSigners: [raDer],
    });
    assert.equal(rep.status, 'SUCCESS');
    assert.equal(rep.crls.length, 1);
  });

  it('ok/logs-never-contain-challenges', () => {
    assert.ok(logLines.length > 20);
    const all = logLines.join('');
    assert.ok(!all.includes(SECRET));
    assert.ok(!all.includes(LONG_CHALLENGE.slice(0, 64)));
    assert.ok(!all.includes('message='));
    for (const l of logLines)
      assert.equal(typeof (JSON.parse(l) as { durationMs?: unknown }).durationMs, 'number');
  });

  // Last: it closes the store.
  it('fail/store-down-500-and-healthz-503', async () => {
    await store.close();
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 503);
    assert.deepEqual(await h.json(), { ok: false, store: 'unreachable', intune: null });
    await assert.rejects(
      enroll({
        base,
        path: '/scep',
        recipient: raDer,
        trustedSigners: [raDer],
        challenge: SECRET,
        cn: 'late',
      }),
      /HTTP 500: internal error/,
    );
    const caps = await fetch(`${base}/scep?operation=GetCACaps`);
    assert.equal(caps.status, 200, 'what needs no store still works');
  });
});
