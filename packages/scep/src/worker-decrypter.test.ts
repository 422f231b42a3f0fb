/*
 * The worker decrypter: RSA private-key decryption on a thread of its own gives the same bytes as in-thread
 * decryption, keeps calls and keys apart under concurrency, and fails cleanly.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import {
  DecryptThread,
  ScepError,
  buildEnvelopedData,
  keyObjectDecrypter,
  openEnvelopedData,
  workerDecrypter,
} from './index.js';
import { readCertPem, readKey } from './testing/fixtures.js';

const caCert = readCertPem('cas/micromdm-ca/ca.pem');
const caKey = readKey('cas/micromdm-ca/ca.key.pem');
const otherCert = readCertPem('cas/ku-ca/ca.pem');
const otherKey = readKey('cas/ku-ca/ca.key.pem');
const caPub = createPublicKey(caKey);
const otherPub = createPublicKey(otherKey);

const thread = new DecryptThread();
after(() => thread.close());
const ca = workerDecrypter(caCert, caKey, thread);
const other = workerDecrypter(otherCert, otherKey, thread);
const caLocal = keyObjectDecrypter(caCert, caKey);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('workerDecrypter', () => {
  it('ok/raw-decryption-equals-in-thread-decryption', async () => {
    for (let i = 0; i < 8; i++) {
      const c = publicEncrypt({ key: caPub, padding: constants.RSA_PKCS1_PADDING }, randomBytes(16 + i));
      const em = await ca.decryptRaw(c);
      assert.equal(em.length, 256);
      assert.equal(hex(em), hex(caLocal.decryptRaw(c)));
      assert.equal(em[0], 0);
      assert.equal(em[1], 2, 'a PKCS#1 type 2 block');
    }
  });

  for (const hash of ['sha1', 'sha256'] as const) {
    it(`ok/oaep-${hash}`, async () => {
      const secret = randomBytes(32);
      const c = publicEncrypt(
        { key: caPub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
        secret,
      );
      assert.equal(hex(await ca.decryptOaep(c, hash)), hex(secret));
    });
  }

  it('ok/same-rejection-secret-as-in-thread (implicit rejection keys match)', () => {
    assert.equal(hex(ca.rejectionSecret), hex(caLocal.rejectionSecret));
  });

  it('ok/200-concurrent-calls-on-two-keys-each-get-their-own-answer', async () => {
    const jobs = Array.from({ length: 200 }, (_, i) => {
      const secret = randomBytes(32);
      const useCa = i % 2 === 0;
      const c = publicEncrypt(
        { key: useCa ? caPub : otherPub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        secret,
      );
      return { secret, out: (useCa ? ca : other).decryptOaep(c, 'sha256') };
    });
    for (const j of jobs) assert.equal(hex(await j.out), hex(j.secret));
  });

  it('ok/opens-envelopes-like-the-in-thread-decrypter', async () => {
    const content = randomBytes(700);
    for (const keyTransport of ['rsa-pkcs1', 'rsa-oaep'] as const) {
      const env = buildEnvelopedData(content, [otherCert, caCert], { cipher: 'aes-256-cbc', keyTransport });
      const opened = await openEnvelopedData(env, [ca]);
      assert.equal(hex(opened.content), hex(content));
      assert.equal(opened.keyTransport, keyTransport);
      assert.equal(opened.recipient, ca);
    }
  });

  it('fail/wrong-key-is-a-content-decryption-failure, not a crash', async () => {
    // Encrypted to the CA, opened with a decrypter that claims the CA certificate but holds another key. The
    // wrong key yields a substitute content key (implicit rejection), and CBC padding under a random key still
    // looks valid about once in 256 envelopes: then the content is garbage, never the plaintext. Over 8 envelopes
    // at least one must fail as decryptFailed (all 8 passing the padding check: about 2^-64).
    const liar = workerDecrypter(caCert, otherKey, thread);
    let failed = 0;
    for (let i = 0; i < 8; i++) {
      const plaintext = randomBytes(64);
      const env = buildEnvelopedData(plaintext, [caCert], { cipher: 'aes-128-cbc' });
      try {
        const opened = await openEnvelopedData(env, [liar]);
        assert.notEqual(hex(opened.content), hex(plaintext));
      } catch (e) {
        assert.ok(e instanceof ScepError && e.code === 'decryptFailed', String(e));
        failed++;
      }
    }
    assert.ok(failed > 0);
  });

  it('fail/ciphertext-too-long-or-not-below-the-modulus-rejects', async () => {
    await assert.rejects(ca.decryptRaw(new Uint8Array(257)), Error);
    await assert.rejects(ca.decryptRaw(new Uint8Array(256).fill(0xff)), Error);
    await assert.rejects(
      openEnvelopedData(
        buildEnvelopedData(randomBytes(8), [caCert], { cipher: 'aes-128-cbc', keyTransport: 'rsa-oaep' }),
        [workerDecrypter(caCert, otherKey, thread)],
      ),
      (e) => e instanceof ScepError && e.code === 'decryptFailed',
    );
    // The thread is still there for the next call.
    const c = publicEncrypt({ key: caPub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('x'));
    assert.equal(hex(await ca.decryptRaw(c)), hex(caLocal.decryptRaw(c)));
  });

  it('ok/a-view-into-a-larger-buffer-is-decrypted-as-the-view', async () => {
    const c = publicEncrypt({ key: caPub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('view'));
    const big = new Uint8Array(4096);
    big.set(c, 1000);
    const view = big.subarray(1000, 1256);
    assert.equal(hex(await ca.decryptRaw(view)), hex(caLocal.decryptRaw(c)));
    assert.equal(big.byteLength, 4096, 'the caller’s buffer is not moved to the thread');
    assert.equal(hex(big.subarray(1000, 1256)), hex(c));
    // A Buffer from Node's shared pool: the pool stays usable.
    const pooled = Buffer.from(c);
    await ca.decryptRaw(pooled);
    assert.equal(pooled.buffer.byteLength > 0 && hex(pooled), hex(c));
  });

  it('fail/after-close-every-call-rejects', async () => {
    const t = new DecryptThread();
    const d = workerDecrypter(caCert, caKey, t);
    const c = publicEncrypt({ key: caPub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('y'));
    assert.equal((await d.decryptRaw(c)).length, 256);
    const inFlight = Array.from({ length: 20 }, () => d.decryptRaw(c));
    await t.close();
    const settled = await Promise.allSettled(inFlight);
    // Calls the thread answered before it stopped succeed; the rest fail, none hangs.
    assert.ok(settled.every((s) => s.status === 'fulfilled' || s.reason instanceof Error));
    await assert.rejects(d.decryptRaw(c), /closed/);
  });
});
