/*
 * In-process timing of the server's request-path steps on distinct pre-built PKCSReq messages, next to the raw
 * costs they should approach (a plain asn1js parse, node's native X509Certificate, the RSA operations).
 *   node bench/dist/hot-path.js [--count 200]
 */
import { X509Certificate, constants, createPrivateKey, privateDecrypt, randomBytes, sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import { parseCsr } from '@scepkit/ca';
import {
  decodePkiMessage,
  keyObjectDecrypter,
  openScepRequest,
  parseCertificate,
  selfSignedCertificate,
} from '@scepkit/scep';
import type { PkiMessage } from '@scepkit/scep';
import { Args } from './args.js';
import { buildRequests, keyPool } from './messages.js';

const args = new Args(process.argv.slice(2));
const count = args.number('count', 200);
const [raKey] = await keyPool(1);
const raCert = selfSignedCertificate({
  // DER of the Name CN=bench RA
  subject: new Uint8Array(
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
  ),
  privateKey: raKey!.privateKey,
});
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
await time('RSA-2048 private decrypt (raw, baseline)', () =>
  privateDecrypt({ key: rsaKey, padding: constants.RSA_NO_PADDING }, block),
);
await time('RSA-2048 sign SHA-256 (baseline)', (i) => sign('sha256', requests[i]!.der, rsaKey));
