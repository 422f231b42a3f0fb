import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CONTENT_TYPES,
  decodeCertRep,
  decodePkiMessage,
  keyObjectDecrypter,
  keyObjectSigner,
} from '@scepkit/scep';
import { createScepServer } from './server.js';
import type { ScepServer } from './server.js';
import { FakeBackend } from './testing/fake-backend.js';

// Real client captures (see packages/scep/testdata/README.md): the challenge is `secret123` everywhere.
const testdata = (rel: string) => fileURLToPath(new URL(`../../scep/testdata/${rel}`, import.meta.url));
const read = (rel: string) => readFileSync(testdata(rel));
function pemCert(rel: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END/.exec(read(rel).toString('utf8'));
  return new Uint8Array(Buffer.from(m![1]!.replace(/\s+/g, ''), 'base64'));
}

const caCert = pemCert('cas/micromdm-ca/ca.pem');
const caKey = createPrivateKey(read('cas/micromdm-ca/ca.key.pem'));

describe('server with real client captures (fake backend)', () => {
  const backend = new FakeBackend(caCert);
  backend.challenge = 'secret123';
  let server: ScepServer;
  let base: string;
  before(async () => {
    server = createScepServer({
      // The test process blocks its event loop (key generation) between requests; a longer server keep-alive keeps
      // fetch from reusing a socket the server has just closed (ECONNRESET).
      limits: { keepAliveTimeout: 120_000 },
      endpoints: [
        {
          path: '/scep',
          backend,
          pki: {
            caChain: [caCert],
            signer: keyObjectSigner(caCert, caKey),
            decrypters: [keyObjectDecrypter(caCert, caKey)],
          },
        },
      ],
      rateLimit: false,
      metrics: { defaultMetrics: false },
    });
    base = await server.listen();
  });
  after(() => server.close());

  async function checkReply(res: Response, request: Uint8Array, clientKeyRel: string) {
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), CONTENT_TYPES.pkiMessage);
    const req = decodePkiMessage(request);
    const rep = await decodeCertRep(new Uint8Array(await res.arrayBuffer()), {
      decrypter: keyObjectDecrypter(req.signerCertificate, createPrivateKey(read(clientKeyRel))),
      expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
      trustedSigners: [caCert],
    });
    return rep;
  }

  const urls = [
    // certmonger: standard base64, %2B %2F %3D escaped, sha256 + aes-256-cbc, plain rsaEncryption signature.
    {
      name: 'ok/get-PKIOperation-certmonger-percent-encoded',
      url: 'by-client/certmonger/PKCSReq-GET.full-url.txt',
      req: 'by-client/certmonger/PKCSReq-GET-sha256-aes256.req.der',
      key: 'by-client/certmonger/client-key.pem',
    },
    // micromdm scepclient: base64url alphabet (micromdm's own server answers 500).
    {
      name: 'ok/get-PKIOperation-micromdm-base64url',
      url: 'by-client/micromdm-scepclient/PKCSReq-GET-base64url.full-url.txt',
      req: 'by-client/micromdm-scepclient/PKCSReq-GET-base64url-sha1-descbc.req.der',
      key: 'by-client/micromdm-scepclient/client-key.pem',
    },
  ];
  for (const u of urls) {
    it(u.name, async () => {
      const full = read(u.url).toString('utf8').trim();
      const pathAndQuery = full.replace(/^https?:\/\/[^/]+/, '');
      const rep = await checkReply(await fetch(`${base}${pathAndQuery}`), read(u.req), u.key);
      assert.equal(rep.status, 'SUCCESS');
      assert.deepEqual(rep.certificates[0], caCert);
    });
  }

  it('ok/post-PKIOperation-micromdm-sha1-des-cbc', async () => {
    const der = read('by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der');
    const res = await fetch(`${base}/cgi-bin/pkiclient.exe?operation=PKIOperation`, {
      method: 'POST',
      body: der,
      headers: { 'content-type': 'application/octet-stream' },
    });
    const rep = await checkReply(res, der, 'by-client/micromdm-scepclient/client-key.pem');
    assert.equal(rep.status, 'SUCCESS');
    assert.equal(rep.message.digest, 'sha1', 'the reply mirrors the client digest');
  });

  it('fail/post-PKIOperation-micromdm-wrong-challenge-badRequest', async () => {
    const der = read('by-client/micromdm-scepclient/PKCSReq-POST-wrong-challenge.req.der');
    const res = await fetch(`${base}/scep/pkiclient.exe?operation=PKIOperation`, {
      method: 'POST',
      body: der,
    });
    const rep = await checkReply(res, der, 'by-client/micromdm-scepclient/client-key.pem');
    assert.equal(rep.status, 'FAILURE');
    assert.equal(rep.failInfo, 'badRequest');
  });

  it('fail/post-PKIOperation-encrypted-to-wrong-CA-badMessageCheck', async () => {
    const der = read('by-client/micromdm-server-errors/PKCSReq-encrypted-to-wrong-CA.req.der');
    const res = await fetch(`${base}/scep?operation=PKIOperation`, { method: 'POST', body: der });
    assert.equal(res.status, 200);
    const rep = await decodeCertRep(new Uint8Array(await res.arrayBuffer()), {
      decrypter: keyObjectDecrypter(caCert, caKey), // FAILURE carries no envelope: any decrypter
      trustedSigners: [caCert],
    });
    assert.equal(rep.status, 'FAILURE');
    assert.equal(rep.failInfo, 'badMessageCheck');
  });
});
