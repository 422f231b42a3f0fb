/*
 * In-process timing of the server's request-path steps on distinct pre-built PKCSReq messages, next to the raw
 * costs they should approach (a plain asn1js parse, node's native X509Certificate, the RSA operations), and of the
 * reply's encoding with the signatures left out (a fixed 256-byte value stands in for each).
 *   node bench/dist/hot-path.js [--count 200]
 */
import {
  X509Certificate,
  constants,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  randomBytes,
  sign,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { OID, buildCertificate, parseCsr } from '@scepkit/ca';
import type { Signer } from '@scepkit/ca';
import {
  buildCertRep,
  decodePkiMessage,
  keyObjectDecrypter,
  openScepRequest,
  parseCertificate,
  selfSignedCertificate,
} from '@scepkit/scep';
import type { PkiMessage, ScepSigner } from '@scepkit/scep';
import { Args } from './args.js';
import { buildRequests, keyPool } from './messages.js';

const args = new Args(process.argv.slice(2));
const count = args.number('count', 200);
const [raKey] = await keyPool(1);
// DER of the Name CN=bench RA
const raName = new Uint8Array(
  new asn1js.Sequence({
    value: [
      new asn1js.Set({
        value: [
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: '2.5.4.3' }),
              new asn1js.Utf8String({ value: 'bench RA' }),
            ],
          }),
        ],
      }),
    ],
  }).toBER(),
);
const raCert = selfSignedCertificate({ subject: raName, privateKey: raKey!.privateKey });
const raSpki = new Uint8Array(createPublicKey(raKey!.privateKey).export({ type: 'spki', format: 'der' }));
const decrypter = keyObjectDecrypter(raCert, raKey!.privateKey);
const requests = await buildRequests({
  count,
  pool: await keyPool(16),
  recipient: raCert,
  challenge: 'x',
  tag: 'hot',
});
const rsaKey = createPrivateKey(raKey!.privateKey.export({ format: 'pem', type: 'pkcs8' }));

async function time(name: string, fn: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(20, count); i++) await fn(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await fn(i);
  const ms = (performance.now() - t0) / count;
  process.stdout.write(`| ${name} | ${ms.toFixed(3)} |\n`);
}

const messages: PkiMessage[] = requests.map((r) => decodePkiMessage(r.der));
const opened = await Promise.all(messages.map((m) => openScepRequest(m, [decrypter])));
const csrs = opened.map((o) => o.body).map((b) => ('csr' in b ? b.csr : b));
const block = new Uint8Array(256);
block.set(randomBytes(255), 1);

process.stdout.write(`| step (${count} distinct messages) | ms per call |\n| --- | --- |\n`);
await time('asn1js.fromBER(pkiMessage) (raw parse, baseline)', (i) => asn1js.fromBER(requests[i]!.der));
await time('decodePkiMessage (parse SignedData, verify signer)', (i) => decodePkiMessage(requests[i]!.der));
await time('parseCertificate(signer certificate), uncached', (i) =>
  parseCertificate(new Uint8Array(requests[i]!.signerCertificate)),
);
await time(
  'new X509Certificate(signer certificate).publicKey (native)',
  (i) => new X509Certificate(requests[i]!.signerCertificate).publicKey,
);
await time('openScepRequest (EnvelopedData, RSA decrypt, CSR check)', (i) =>
  openScepRequest(messages[i]!, [decrypter]),
);
await time('parseCsr (@scepkit/ca policy)', (i) => parseCsr(csrs[i] as Uint8Array));
// The reply side without its two RSA signatures, which the thread pool makes: what is left is encoding (asn1js),
// the content encryption and the RSA public-key encryption of its key.
const fixedSignature = new Uint8Array(randomBytes(256));
const caSigner: Signer = {
  algorithm: { oid: OID.sha256WithRSAEncryption, keyType: 'rsa', hash: 'SHA-256' },
  publicKeySpki: raSpki,
  sign: () => Promise.resolve(fixedSignature),
};
const raSigner: ScepSigner = { certificate: raCert, keyType: 'rsa', sign: () => fixedSignature };
const der = (el: asn1js.AsnType) => new Uint8Array(el.toBER());
const clientAuthEku = der(
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.clientAuth })] }),
);
// keyIdentifier OCTET STRING, and AuthorityKeyIdentifier SEQUENCE { [0] keyIdentifier }
const subjectKeyId = der(new asn1js.OctetString({ valueHex: randomBytes(20) }));
const authorityKeyId = der(
  new asn1js.Sequence({
    value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: randomBytes(20) })],
  }),
);
const issued: Uint8Array[] = [];
await time('buildCertificate (4 extensions), signature left out', async (i) => {
  issued[i] = await buildCertificate(
    {
      serial: new Uint8Array([0x40, ...randomBytes(15)]),
      issuer: raName,
      subject: raName,
      spki: raSpki,
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 365 * 86_400_000),
      extensions: [
        // digitalSignature and keyEncipherment
        { oid: OID.keyUsage, critical: true, value: new Uint8Array([3, 2, 5, 160]) },
        { oid: OID.extKeyUsage, critical: false, value: clientAuthEku },
        { oid: OID.subjectKeyIdentifier, critical: false, value: subjectKeyId },
        { oid: OID.authorityKeyIdentifier, critical: false, value: authorityKeyId },
      ],
    },
    caSigner,
  );
});
await time('buildCertRep SUCCESS (envelope, two SignedData), signature left out', (i) =>
  buildCertRep({
    request: messages[i]!,
    status: 'SUCCESS',
    certificates: [issued[i]!],
    includeCertificates: [raCert],
    signer: raSigner,
    requestCipher: opened[i]!.cipher,
  }),
);
await time('buildCertRep FAILURE, signature left out', (i) =>
  buildCertRep({ request: messages[i]!, status: 'FAILURE', failInfo: 'badRequest', signer: raSigner }),
);
await time('RSA-2048 private decrypt (raw, baseline)', () =>
  privateDecrypt({ key: rsaKey, padding: constants.RSA_NO_PADDING }, block),
);
await time('RSA-2048 sign SHA-256 (baseline)', (i) => sign('sha256', requests[i]!.der, rsaKey));
