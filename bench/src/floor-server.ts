/*
 * The floor: an HTTP server that does only the work an enrollment cannot skip, and nothing else. Per POST it
 * makes the three RSA-2048 private-key operations (a raw decryption as scepkit makes it, then two SHA-256
 * signatures on libuv's pool, as scepkit signs the certificate and the reply), appends the "certificate" to a file
 * and waits for `fdatasync` before answering (requests that arrive during a sync share the next one, as group
 * commit does), and answers with a fixed body of a CertRep's size. No ASN.1, no store, no framework: what Node's
 * HTTP server, the RSA operations and one durable write cost together on this machine, so that scepkit's figures
 * can be read against what any Node.js server could reach here.
 *   node bench/dist/floor-server.js --data <file> [--reply-bytes 3000]
 * Prints `floor listening on http://127.0.0.1:PORT/scep`; listens on loopback only.
 */
import {
  constants,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
} from 'node:crypto';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Args } from './args.js';

const args = new Args(process.argv.slice(2));
const dataFile = args.string('data', '');
if (!dataFile) throw new Error('--data <file> is required');
const replyBytes = args.number('reply-bytes', 3000);

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// A content-encryption key encrypted to the server's key, as a request carries one.
const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, randomBytes(32));
const reply = randomBytes(replyBytes);
const file = await open(dataFile, 'a');

/** Group commit: whatever is appended while a sync runs is written and synced by the next one. */
let pending: { bytes: Buffer; done: (err?: Error) => void }[] = [];
let syncing = false;
async function drain(): Promise<void> {
  syncing = true;
  while (pending.length) {
    const batch = pending;
    pending = [];
    try {
      await file.write(Buffer.concat(batch.map((p) => p.bytes)));
      await file.datasync();
      for (const p of batch) p.done();
    } catch (err) {
      for (const p of batch) p.done(err as Error);
    }
  }
  syncing = false;
}
function commit(bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pending.push({ bytes, done: (err) => (err ? reject(err) : resolve()) });
    if (!syncing) void drain();
  });
}

function signOnPool(data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign('sha256', data, privateKey, (err, signature) => (err ? reject(err) : resolve(signature))),
  );
}

async function enroll(body: Buffer): Promise<void> {
  privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encryptedKey);
  // The certificate's TBS is about the size of the request's CSR; the reply's signed attributes a few hundred bytes.
  const certificate = await signOnPool(body.subarray(0, 1000));
  await commit(Buffer.concat([body.subarray(0, 900), certificate]));
  await signOnPool(reply.subarray(0, 300));
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || body.length === 0) {
      res.writeHead(400).end();
      return;
    }
    enroll(body).then(
      () => {
        res.writeHead(200, { 'content-type': 'application/x-pki-message', 'content-length': reply.length });
        res.end(reply);
      },
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`floor listening on http://127.0.0.1:${port}/scep\n`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void file.close().finally(() => process.exit(0));
});
