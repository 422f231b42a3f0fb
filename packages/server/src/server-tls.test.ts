import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createScepServer } from './server.js';
import type { ScepServer } from './server.js';
import { FakeBackend } from './testing/fake-backend.js';
import { identity, singleCaPki } from './testing/fixtures.js';

const ca = identity('Test CA');
const tlsId = identity('127.0.0.1');
const pem = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;

function get(
  url: string,
  tls: { minVersion?: 'TLSv1' | 'TLSv1.2'; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; ciphers?: string },
): Promise<{ status: number; body: string; protocol: string | null; cipher: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, ...tls }, (res) => {
      const socket = res.socket as TLSSocket;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          protocol: socket.getProtocol(),
          cipher: socket.getCipher().name,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('server over HTTPS', () => {
  let server: ScepServer;
  let base: string;
  before(async () => {
    server = createScepServer({
      endpoints: [{ path: '/scep', backend: new FakeBackend(ca.cert), pki: singleCaPki(ca) }],
      tls: { key: tlsId.key.export({ format: 'pem', type: 'pkcs8' }) as string, cert: pem(tlsId.cert) },
      rateLimit: false,
      metrics: { defaultMetrics: false },
    });
    base = await server.listen();
  });
  after(() => server.close());

  it('ok/https-url-and-tls13', async () => {
    assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(`${base}/scep?operation=GetCACaps`, {});
    assert.equal(r.status, 200);
    assert.match(r.body, /SCEPStandard/);
    assert.equal(r.protocol, 'TLSv1.3');
  });

  it('ok/tls12-ecdhe-aead', async () => {
    const r = await get(`${base}/scep?operation=GetCACaps`, { maxVersion: 'TLSv1.2' });
    assert.equal(r.protocol, 'TLSv1.2');
    assert.match(r.cipher, /^ECDHE-RSA-(AES\d+-GCM|CHACHA20)/);
  });

  it('fail/tls11-refused', async () => {
    await assert.rejects(
      get(`${base}/scep?operation=GetCACaps`, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }),
    );
  });

  it('fail/tls12-cbc-cipher-refused', async () => {
    await assert.rejects(
      get(`${base}/scep?operation=GetCACaps`, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' }),
    );
  });
});
