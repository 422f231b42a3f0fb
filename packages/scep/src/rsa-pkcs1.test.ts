/*
 * RSAES-PKCS1-v1_5 key transport with implicit rejection (rsa-pkcs1.ts): ciphertexts made by openssl, good and bad.
 * The CA keys in testdata are fixed, so every ciphertext made here with raw RSA is the same on every run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCipheriv, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import fc from 'fast-check';
import {
  DecryptThread,
  ScepError,
  buildEnvelopedData,
  keyObjectDecrypter,
  openEnvelopedData,
  syntheticKey,
  unpadPkcs1Type2,
  workerDecrypter,
} from './index.js';
import type { SyncScepDecrypter } from './index.js';
import { readCertPem, readKey } from './testing/fixtures.js';

const ca = keyObjectDecrypter(readCertPem('cas/micromdm-ca/ca.pem'), readKey('cas/micromdm-ca/ca.key.pem'));
const caThread = new DecryptThread();
after(() => caThread.close());
const caOnThread = workerDecrypter(
  readCertPem('cas/micromdm-ca/ca.pem'),
  readKey('cas/micromdm-ca/ca.key.pem'),
  caThread,
);
const otherCa = keyObjectDecrypter(readCertPem('cas/ku-ca/ca.pem'), readKey('cas/ku-ca/ca.key.pem'));
const K = 256; // RSA-2048 modulus length

let dir: string;
let pubPem: string;
let otherPubPem: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'scep-pkcs1-'));
  pubPem = join(dir, 'pub.pem');
  otherPubPem = join(dir, 'other-pub.pem');
  writeFileSync(
    pubPem,
    createPublicKey(readKey('cas/micromdm-ca/ca.key.pem')).export({ format: 'pem', type: 'spki' }),
  );
  writeFileSync(
    otherPubPem,
    createPublicKey(readKey('cas/ku-ca/ca.key.pem')).export({ format: 'pem', type: 'spki' }),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `openssl pkeyutl -encrypt` of `data` with PKCS#1 v1.5 padding, or raw (`none`: data is the whole block). */
function pkeyutlEncrypt(data: Uint8Array, mode: 'pkcs1' | 'none', pub = pubPem): Buffer {
  const inFile = join(dir, `in${n++}`);
  writeFileSync(inFile, data);
  const args = ['pkeyutl', '-encrypt', '-pubin', '-inkey', pub, '-in', inFile];
  if (mode === 'none') args.push('-pkeyopt', 'rsa_padding_mode:none');
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A deterministic non-zero filler (PKCS#1 PS bytes). */
const nonZero = (len: number, seed = 7) =>
  Buffer.from(Array.from({ length: len }, (_, i) => ((i * 31 + seed) % 255) + 1));

/** `00 02 PS 00 M`, or variations of it. */
function block(o: {
  first?: number;
  second?: number;
  psLength?: number;
  message: Uint8Array;
  separator?: boolean;
}) {
  const psLength = o.psLength ?? K - 3 - o.message.length;
  const b = Buffer.concat([
    Buffer.from([o.first ?? 0, o.second ?? 2]),
    nonZero(psLength),
    o.separator === false ? Buffer.alloc(0) : Buffer.from([0]),
    o.message,
  ]);
  assert.equal(b.length, K, 'test block must be exactly the modulus length');
  return b;
}

function decryptKey(d: SyncScepDecrypter, ciphertext: Uint8Array, length: number): Buffer {
  return unpadPkcs1Type2(
    d.decryptRaw(ciphertext),
    length,
    syntheticKey(d.rejectionSecret, ciphertext, length),
  );
}

/** True if `needle` occurs anywhere in `hay`. */
const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0;

describe('PKCS#1 v1.5: valid ciphertexts from openssl pkeyutl', () => {
  for (const length of [8, 16, 24, 32]) {
    it(`ok/${length}-byte-key`, () => {
      for (let i = 0; i < 3; i++) {
        const key = randomBytes(length);
        const c = pkeyutlEncrypt(key, 'pkcs1');
        assert.equal(c.length, K);
        assert.deepEqual(decryptKey(ca, c, length), key);
      }
    });
  }

  it('ok/minimum-padding-PS-of-exactly-8-bytes', () => {
    const message = randomBytes(K - 3 - 8);
    const c = pkeyutlEncrypt(block({ message, psLength: 8 }), 'none');
    assert.deepEqual(decryptKey(ca, c, message.length), message);
  });
});

interface BadCase {
  name: string;
  block: Buffer;
  /** The length the caller expects (the content cipher's key length). */
  length: number;
}

const m32 = nonZero(32, 99);
const badCases: BadCase[] = [
  { name: 'first-byte-not-00', block: block({ first: 0x01, message: m32 }), length: 32 },
  { name: 'first-byte-7f', block: block({ first: 0x7f, message: m32 }), length: 32 },
  { name: 'second-byte-01-signature-padding', block: block({ second: 0x01, message: m32 }), length: 32 },
  { name: 'second-byte-00', block: block({ second: 0x00, message: m32 }), length: 32 },
  { name: 'second-byte-03', block: block({ second: 0x03, message: m32 }), length: 32 },
  {
    name: 'no-zero-separator',
    block: block({ message: Buffer.alloc(0), psLength: K - 2, separator: false }),
    length: 32,
  },
  // PS of 7 bytes: the zero falls inside the minimum padding; the message after it is exactly `length` long.
  {
    name: 'separator-too-early-PS-7',
    block: block({ message: nonZero(K - 3 - 7, 5), psLength: 7 }),
    length: K - 10,
  },
  {
    name: 'separator-too-early-PS-0',
    block: block({ message: nonZero(K - 3, 5), psLength: 0 }),
    length: K - 3,
  },
  {
    name: 'message-16-bytes-for-a-32-byte-cipher-key',
    block: block({ message: nonZero(16, 3) }),
    length: 32,
  },
  {
    name: 'message-33-bytes-for-a-32-byte-cipher-key',
    block: block({ message: nonZero(33, 3) }),
    length: 32,
  },
  { name: 'message-24-bytes-for-an-8-byte-DES-key', block: block({ message: nonZero(24, 3) }), length: 8 },
  { name: 'zero-length-message', block: block({ message: Buffer.alloc(0) }), length: 32 },
];

describe('PKCS#1 v1.5: malformed paddings yield a deterministic substitute (implicit rejection)', () => {
  for (const c of badCases) {
    it(`fail/${c.name}`, () => {
      const ct = pkeyutlEncrypt(c.block, 'none');
      assert.deepEqual(ca.decryptRaw(ct), c.block, 'raw RSA round trip of the hand-made block');
      const out = decryptKey(ca, ct, c.length);
      assert.equal(out.length, c.length);
      // Deterministic: the same ciphertext gives the same substitute...
      assert.deepEqual(decryptKey(ca, ct, c.length), out);
      assert.deepEqual(out, syntheticKey(ca.rejectionSecret, ct, c.length));
      // ...a different ciphertext (same block, so a different random-looking value) a different one.
      const otherBlock = Buffer.from(c.block);
      otherBlock[K - 1] = otherBlock[K - 1]! ^ 0x5a;
      const ct2 = pkeyutlEncrypt(otherBlock, 'none');
      assert.notDeepEqual(decryptKey(ca, ct2, c.length), out);
      // Nothing of the block leaks into the result.
      assert.equal(contains(c.block, out), false);
      // The substitute depends on the private key's secret too.
      assert.notDeepEqual(syntheticKey(otherCa.rejectionSecret, ct, c.length), out);
    });
  }

  it('ok/unpad-never-throws-and-only-accepts-well-formed-blocks (property)', () => {
    const wellFormed = (em: Uint8Array, len: number) => {
      if (em[0] !== 0 || em[1] !== 2) return false;
      const sep = em.indexOf(0, 2);
      return sep >= 10 && em.length - sep - 1 === len;
    };
    const blockArb = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      // mostly-valid blocks with a few bytes forced to interesting values
      fc
        .tuple(
          fc.integer({ min: 0, max: 40 }),
          fc.array(fc.tuple(fc.nat(63), fc.constantFrom(0, 1, 2, 0xff))),
        )
        .map(([len, edits]) => {
          const b = Buffer.concat([
            Buffer.from([0, 2]),
            nonZero(61 - len),
            Buffer.from([0]),
            nonZero(len, 11),
          ]);
          for (const [i, v] of edits) b[i] = v;
          return new Uint8Array(b);
        }),
    );
    fc.assert(
      fc.property(blockArb, fc.integer({ min: 0, max: 48 }), (em, len) => {
        const substitute = Buffer.alloc(len, 0xee);
        const out = unpadPkcs1Type2(em, len, substitute);
        assert.equal(out.length, len);
        if (wellFormed(em, len)) assert.deepEqual(out, Buffer.from(em.subarray(em.length - len)));
        else assert.deepEqual(out, substitute);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('PKCS#1 v1.5 end to end: bad padding and wrong key are indistinguishable', () => {
  // A fixed AES-256 key and IV: with fixed RSA keys every byte of every EnvelopedData below is the same on each run,
  // so the outcome of decrypting with a substitute key is deterministic too.
  const contentKey = Buffer.alloc(32, 0x42);
  const iv = Buffer.alloc(16, 0x24);
  const content = new TextEncoder().encode('a CSR would be here; any bytes will do for the envelope');

  /** An EnvelopedData to the micromdm CA whose encryptedKey is `encryptedKey` (content under `contentKey`). */
  function envelope(encryptedKey: Uint8Array): Uint8Array {
    const der = buildEnvelopedData(content, [ca.certificate], { cipher: 'aes-256-cbc' });
    const ci = new pkijs.ContentInfo({ schema: asn1js.fromBER(der).result });
    const env = new pkijs.EnvelopedData({ schema: ci.content });
    const ktri = env.recipientInfos[0]!.value as pkijs.KeyTransRecipientInfo;
    ktri.encryptedKey = new asn1js.OctetString({ valueHex: encryptedKey });
    const c = createCipheriv('aes-256-cbc', contentKey, iv);
    env.encryptedContentInfo.contentEncryptionAlgorithm.algorithmParams = new asn1js.OctetString({
      valueHex: iv,
    });
    env.encryptedContentInfo.encryptedContent = new asn1js.OctetString({
      valueHex: Buffer.concat([c.update(content), c.final()]),
    });
    return new Uint8Array(
      new pkijs.ContentInfo({ contentType: ci.contentType, content: env.toSchema() }).toSchema().toBER(),
    );
  }

  /** How opening fails, the same with the key in this thread and on the decryption thread. */
  async function failure(der: Uint8Array): Promise<{ code: string; message: string }> {
    const results = [];
    for (const d of [ca, caOnThread]) {
      try {
        await openEnvelopedData(der, [d]);
      } catch (e) {
        assert.ok(e instanceof ScepError);
        results.push({ code: e.code, message: e.message });
        continue;
      }
      assert.fail('expected a failure');
    }
    assert.deepEqual(results[0], results[1]);
    return results[0]!;
  }

  it('ok/control-the-right-key-opens', async () => {
    const good = envelope(pkeyutlEncrypt(contentKey, 'pkcs1'));
    assert.deepEqual((await openEnvelopedData(good, [ca])).content, Buffer.from(content));
  });

  it('fail/bad-padding-vs-other-key -> identical decryptFailed', async () => {
    const otherKey = await failure(
      envelope(pkeyutlEncrypt(block({ message: contentKey }), 'none', otherPubPem)),
    );
    assert.deepEqual(otherKey, { code: 'decryptFailed', message: 'content decryption failed' });
    for (const c of badCases) {
      const bad = await failure(envelope(pkeyutlEncrypt(c.block, 'none')));
      assert.deepEqual(bad, otherKey, c.name);
    }
    // A well-formed block carrying a 16-byte prefix of the right key, where AES-256 needs 32.
    assert.deepEqual(
      await failure(envelope(pkeyutlEncrypt(block({ message: contentKey.subarray(0, 16) }), 'none'))),
      otherKey,
    );
    // The right key in a block with a 7-byte PS (the zero separator too early).
    const early = Buffer.concat([
      Buffer.from([0, 2]),
      nonZero(7),
      Buffer.from([0]),
      nonZero(K - 42),
      contentKey,
    ]);
    assert.deepEqual(await failure(envelope(pkeyutlEncrypt(early, 'none'))), otherKey);
  });

  it('fail/ciphertext-not-modulus-length -> the same decryptFailed', async () => {
    assert.deepEqual(await failure(envelope(randomBytes(255))), {
      code: 'decryptFailed',
      message: 'content decryption failed',
    });
    // A value above the modulus: public knowledge, same answer.
    assert.deepEqual(await failure(envelope(Buffer.alloc(K, 0xff))), {
      code: 'decryptFailed',
      message: 'content decryption failed',
    });
  });
});
