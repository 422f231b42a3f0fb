import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  decodePkiMessage,
  openScepRequest,
  readCsr,
  decodeCertRep,
  keyObjectDecrypter,
  parseCertsOnly,
  parseScepQuery,
  decodeBase64Message,
  parseCaps,
  ScepError,
} from './index.js';
import { readCertPem, readKey, readVector, testdataPath } from './testing/fixtures.js';

const micromdmCa = keyObjectDecrypter(
  readCertPem('cas/micromdm-ca/ca.pem'),
  readKey('cas/micromdm-ca/ca.key.pem'),
);
const kuCa = keyObjectDecrypter(readCertPem('cas/ku-ca/ca.pem'), readKey('cas/ku-ca/ca.key.pem'));

interface RequestCase {
  name: string;
  file: string;
  messageType: string;
  digest: string;
  cipher: string;
  challenge?: string;
  ca?: typeof micromdmCa;
}

const requests: RequestCase[] = [
  {
    name: 'ok/micromdm-scepclient-PKCSReq-POST-sha1-descbc',
    file: 'by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der',
    messageType: 'PKCSReq',
    digest: 'sha1',
    cipher: 'des-cbc',
    challenge: 'secret123',
  },
  {
    name: 'ok/micromdm-scepclient-PKCSReq-GET-base64url',
    file: 'by-client/micromdm-scepclient/PKCSReq-GET-base64url-sha1-descbc.req.der',
    messageType: 'PKCSReq',
    digest: 'sha1',
    cipher: 'des-cbc',
    challenge: 'secret123',
  },
  {
    name: 'ok/micromdm-scepclient-wrong-challenge',
    file: 'by-client/micromdm-scepclient/PKCSReq-POST-wrong-challenge.req.der',
    messageType: 'PKCSReq',
    digest: 'sha1',
    cipher: 'des-cbc',
    challenge: 'WRONG',
  },
  {
    name: 'ok/micromdm-scepclient-RenewalReq',
    file: 'by-client/micromdm-scepclient/RenewalReq-POST-sha1-descbc.req.der',
    messageType: 'RenewalReq',
    digest: 'sha1',
    cipher: 'des-cbc',
    challenge: 'secret123', // micromdm's client sends the challenge on renewal too
  },
  {
    name: 'ok/certmonger-PKCSReq-GET-sha256-aes256-plain-rsaEncryption',
    file: 'by-client/certmonger/PKCSReq-GET-sha256-aes256.req.der',
    messageType: 'PKCSReq',
    digest: 'sha256',
    cipher: 'aes-256-cbc',
    challenge: 'secret123',
  },
  {
    name: 'ok/certmonger-PKCSReq-to-ku-ca',
    file: 'by-client/certmonger/PKCSReq-GET-sha256-aes256-to-ku-ca.req.der',
    messageType: 'PKCSReq',
    digest: 'sha256',
    cipher: 'aes-256-cbc',
    challenge: 'secret123',
    ca: kuCa,
  },
  {
    name: 'ok/certmonger-GetCertInitial',
    file: 'by-client/certmonger/CertPoll-GetCertInitial-GET.req.der',
    messageType: 'CertPoll',
    digest: 'sha256',
    cipher: 'aes-256-cbc',
  },
];

describe('real client requests (../shared/vectors)', () => {
  for (const c of requests) {
    it(c.name, async () => {
      const raw = readVector(c.file);
      const msg = decodePkiMessage(raw);
      assert.equal(msg.messageType, c.messageType);
      assert.equal(msg.digest, c.digest);
      assert.equal(msg.senderNonce.length, 16);
      assert.ok(msg.transactionId.length > 0);
      const req = await openScepRequest(msg, [c.ca ?? micromdmCa]);
      assert.equal(req.cipher, c.cipher);
      assert.equal(req.keyTransport, 'rsa-pkcs1');
      if (req.body.messageType === 'PKCSReq' || req.body.messageType === 'RenewalReq') {
        const csr = readCsr(req.body.csr);
        assert.equal(csr.challengePassword, c.challenge);
        // The CSR's key is the key of the client that signed (PKCSReq) or the new key (RenewalReq).
        const signerKey = new X509Certificate(msg.signerCertificate).publicKey.export({
          format: 'der',
          type: 'spki',
        });
        if (c.messageType === 'PKCSReq') assert.deepEqual(Buffer.from(csr.publicKey), signerKey);
      } else {
        assert.equal(req.body.messageType, 'CertPoll');
        assert.equal(req.body.issuer[0], 0x30);
        assert.equal(req.body.subject[0], 0x30);
      }
    });
  }

  it('ok/micromdm-csr-matches-csr.pem', async () => {
    const msg = decodePkiMessage(
      readVector('by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der'),
    );
    const req = await openScepRequest(msg, [micromdmCa]);
    assert.equal(req.body.messageType, 'PKCSReq');
    if (req.body.messageType !== 'PKCSReq') return;
    const pem = readFileSync(testdataPath('by-client/micromdm-scepclient/csr.pem'), 'utf8');
    const b64 = /-----BEGIN CERTIFICATE REQUEST-----([\s\S]+?)-----END/.exec(pem)?.[1]?.replace(/\s+/g, '');
    const csrPem = Buffer.from(b64 ?? '', 'base64');
    assert.deepEqual(readCsr(req.body.csr).publicKey, readCsr(new Uint8Array(csrPem)).publicKey);
  });

  it('fail/encrypted-to-wrong-CA -> noRecipient', async () => {
    const msg = decodePkiMessage(
      readVector('by-client/micromdm-server-errors/PKCSReq-encrypted-to-wrong-CA.req.der'),
    );
    await assert.rejects(
      async () => openScepRequest(msg, [micromdmCa]),
      (e: unknown) => e instanceof ScepError && e.code === 'noRecipient',
    );
  });

  it('ok/certmonger-GET-url-decodes-to-the-captured-request', () => {
    const url = readFileSync(testdataPath('by-client/certmonger/PKCSReq-GET.full-url.txt'), 'utf8').trim();
    const q = parseScepQuery(url.slice(url.indexOf('?') + 1));
    assert.equal(q.operation, 'PKIOperation');
    assert.ok(url.includes('%2B') || url.includes('%2F') || url.includes('%3D'));
    const der = decodeBase64Message(q.message ?? '');
    const msg = decodePkiMessage(der);
    assert.equal(msg.messageType, 'PKCSReq');
  });

  it('ok/micromdm-GET-base64url-decodes-to-the-captured-request', () => {
    const url = readFileSync(
      testdataPath('by-client/micromdm-scepclient/PKCSReq-GET-base64url.full-url.txt'),
      'utf8',
    ).trim();
    const q = parseScepQuery(url.slice(url.indexOf('?') + 1));
    const der = decodeBase64Message(q.message ?? '');
    assert.deepEqual(
      der,
      readVector('by-client/micromdm-scepclient/PKCSReq-GET-base64url-sha1-descbc.req.der'),
    );
  });
});

interface ResponseCase {
  name: string;
  resp: string;
  req: string;
  key: string;
  status: string;
  failInfo?: string;
}

const responses: ResponseCase[] = [
  {
    name: 'ok/micromdm-server-SUCCESS-sha1-descbc',
    resp: 'by-client/micromdm-scepclient/PKCSReq-POST.resp-CertRep-SUCCESS-sha1-descbc.der',
    req: 'by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der',
    key: 'by-client/micromdm-scepclient/client-key.pem',
    status: 'SUCCESS',
  },
  {
    name: 'ok/micromdm-server-FAILURE-badRequest',
    resp: 'by-client/micromdm-scepclient/PKCSReq-POST-wrong-challenge.resp-CertRep-FAILURE-badRequest.der',
    req: 'by-client/micromdm-scepclient/PKCSReq-POST-wrong-challenge.req.der',
    key: 'by-client/micromdm-scepclient/client-key.pem',
    status: 'FAILURE',
    failInfo: 'badRequest',
  },
  {
    name: 'ok/micromdm-server-RenewalReq-SUCCESS',
    resp: 'by-client/micromdm-scepclient/RenewalReq-POST.resp-CertRep-SUCCESS.der',
    req: 'by-client/micromdm-scepclient/RenewalReq-POST-sha1-descbc.req.der',
    key: 'by-client/micromdm-scepclient/client-key.pem',
    status: 'SUCCESS',
  },
  {
    name: 'ok/certmonger-SUCCESS-sha1-descbc',
    resp: 'by-client/certmonger/PKCSReq-GET.resp-CertRep-SUCCESS-sha1-descbc.der',
    req: 'by-client/certmonger/PKCSReq-GET-sha256-aes256.req.der',
    key: 'by-client/certmonger/client-key.pem',
    status: 'SUCCESS',
  },
  {
    name: 'ok/certmonger-to-ku-ca-SUCCESS',
    resp: 'by-client/certmonger/PKCSReq-GET-to-ku-ca.resp-CertRep-SUCCESS.der',
    req: 'by-client/certmonger/PKCSReq-GET-sha256-aes256-to-ku-ca.req.der',
    key: 'by-client/certmonger/client-key-cm2-ku-ca.pem',
    status: 'SUCCESS',
  },
];

describe('real server responses (micromdm scepserver)', () => {
  for (const c of responses) {
    it(c.name, async () => {
      const request = decodePkiMessage(readVector(c.req));
      const decrypter = keyObjectDecrypter(request.signerCertificate, readKey(c.key));
      const rep = await decodeCertRep(readVector(c.resp), {
        decrypter,
        expect: { transactionId: request.transactionId, senderNonce: request.senderNonce },
      });
      assert.equal(rep.status, c.status);
      assert.equal(rep.failInfo, c.failInfo);
      if (c.status === 'SUCCESS') {
        assert.ok(rep.certificates.length >= 1);
        const issued = rep.certificates.map((d) => new X509Certificate(d));
        const signerKey = new X509Certificate(request.signerCertificate).publicKey;
        // For PKCSReq the issued certificate carries the requester's key.
        if (request.messageType === 'PKCSReq') {
          assert.ok(issued.some((x) => x.publicKey.equals(signerKey)));
        }
      }
    });
  }

  it('ok/micromdm-issued-cert-matches-issued-cert-serial02.pem', async () => {
    const request = decodePkiMessage(
      readVector('by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der'),
    );
    const rep = await decodeCertRep(
      readVector('by-client/micromdm-scepclient/PKCSReq-POST.resp-CertRep-SUCCESS-sha1-descbc.der'),
      {
        decrypter: keyObjectDecrypter(
          request.signerCertificate,
          readKey('by-client/micromdm-scepclient/client-key.pem'),
        ),
      },
    );
    assert.deepEqual(
      rep.certificates[0],
      readCertPem('by-client/micromdm-scepclient/issued-cert-serial02.pem'),
    );
  });

  it('ok/GetCACert-responses', () => {
    const single = readVector('by-client/micromdm-scepclient/GetCACert-GET.resp.der');
    assert.equal(new X509Certificate(single).subject.includes('SCEP CA'), true);
    for (const f of ['GetCACert-GET-message0.resp.der', 'GetCACert-GET-message1.resp.der']) {
      const raw = readVector(`by-client/certmonger/${f}`);
      // Either a bare certificate or a certs-only SignedData.
      if (raw[4] === 0x06) assert.ok(parseCertsOnly(raw).certificates.length >= 1);
      else assert.ok(new X509Certificate(raw));
    }
  });

  it('ok/GetCACaps-responses', () => {
    const text = readFileSync(testdataPath('by-client/micromdm-scepclient/GetCACaps-GET.resp.txt'), 'utf8');
    const { caps, unknown } = parseCaps(text);
    assert.deepEqual([...caps].sort(), [
      'AES',
      'DES3',
      'POSTPKIOperation',
      'Renewal',
      'SCEPStandard',
      'SHA-1',
      'SHA-256',
    ]);
    assert.deepEqual(unknown, []);
  });
});
