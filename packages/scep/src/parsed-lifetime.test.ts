/*
 * What a request's parse is tied to. A parsed certificate or SignedData must not be kept by anything that outlives
 * the request (a cache keyed by its bytes, an object literal's getter closure): Node 20's young-generation
 * collector then kept each parse alive, and garbage collection cost more than the parse (BENCHMARKS.md, item 18).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as pkijs from 'pkijs';
import { parseCertificate } from './certificate.js';
import { parseDer } from './der.js';
import { buildCertRep, buildPkiRequest, decodeCertRep, decodePkiMessage, openScepRequest } from './index.js';
import { parseSignedData } from './signed-data.js';
import { makeTestPki } from './testing/pki.js';
import type { TestPki } from './testing/pki.js';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(() => pki.cleanup());

describe('parsed structures and their lifetime', () => {
  it('a certificate given alone is remembered; one inside a message is parsed for that message only', () => {
    const der = new Uint8Array(pki.client.cert);
    assert.equal(parseCertificate(der), parseCertificate(der));
    const tree = parseDer(der, 'certificate');
    const a = parseCertificate(der, tree);
    const b = parseCertificate(der, tree);
    assert.notEqual(a, b);
    assert.deepEqual(Buffer.from(a.serial), Buffer.from(b.serial));
    assert.deepEqual(Buffer.from(a.subject), Buffer.from(parseCertificate(der).subject));
  });

  it('the pkijs models are built on first use by getters on the prototype, not per object', async () => {
    const pc = parseCertificate(new Uint8Array(pki.client.cert));
    assert.equal(Object.getOwnPropertyDescriptor(pc, 'cert'), undefined);
    assert.ok(pc.cert instanceof pkijs.Certificate);
    assert.equal(pc.cert, pc.cert);
    assert.equal(pc.cert.serialNumber.valueBlock.valueHexView.length, pc.serial.length);

    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.client.signer,
      recipients: [pki.ra.cert],
    });
    const sd = parseSignedData(built.der);
    assert.equal(Object.getOwnPropertyDescriptor(sd, 'signedData'), undefined);
    assert.ok(sd.signedData instanceof pkijs.SignedData);
    assert.equal(sd.signedData, sd.signedData);
    assert.equal(sd.signedData.signerInfos.length, 1);
  });

  it('a decoded request carries its parsed signer; a CertRep envelopes to it, never to a signer that differs', async () => {
    const built = await buildPkiRequest({
      body: { messageType: 'PKCSReq', csr: pki.csr },
      signer: pki.client.signer,
      recipients: [pki.ra.cert],
    });
    const message = decodePkiMessage(built.der);
    assert.equal(message.signer?.der, message.signerCertificate);
    assert.deepEqual(Buffer.from(message.signerCertificate), Buffer.from(pki.client.cert));
    const req = await openScepRequest(message, [pki.ra.decrypter!]);
    const reply = (request: typeof message) =>
      buildCertRep({
        request,
        status: 'SUCCESS',
        certificates: [pki.issuedClient.cert],
        signer: pki.ra.signer,
        requestCipher: req.cipher,
      });
    const expect = { transactionId: built.transactionId, senderNonce: built.senderNonce };
    const out = await decodeCertRep(await reply(message), { decrypter: pki.client.decrypter!, expect });
    assert.equal(out.status, 'SUCCESS');
    assert.deepEqual(Buffer.from(out.certificates[0]!), Buffer.from(pki.issuedClient.cert));

    // A `signer` that is not the parse of `signerCertificate` is ignored: the reply still goes to the requester.
    const mismatched = { ...message, signer: parseCertificate(pki.ra.cert) };
    const again = await decodeCertRep(await reply(mismatched), { decrypter: pki.client.decrypter!, expect });
    assert.equal(again.status, 'SUCCESS');
    await assert.rejects(decodeCertRep(await reply(mismatched), { decrypter: pki.ra.decrypter!, expect }));
  });
});
