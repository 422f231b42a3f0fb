import 'reflect-metadata';
import { createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import {
  CONTENT_TYPES,
  buildCertRep,
  buildCertsOnly,
  decodeBase64Message,
  decodePkiMessage,
  formatCaps,
  keyObjectDecrypter,
  keyObjectSigner,
  openScepRequest,
  parseScepQuery,
  type Capability,
  type ContentCipher,
  type DigestName,
  type KeyTransport,
  type MessageType,
} from '@scepkit/scep';
import type { IntuneEmulator } from '../../emulator.js';
import { SCEP_SERVICE_PATH } from '../../graph.js';
import { SCEP_API_VERSION } from '../../model.js';
import { CLIENT_KEY_2048, SIGNING_KEY_2048 } from '../../testdata/fixed-keys.js';

/** One request the test SCEP server received, decoded. */
export interface ReceivedRequest {
  method: string;
  /** Path only. */
  path: string;
  /** The raw query string (percent-encoding as sent). */
  rawQuery: string;
  operation: string | undefined;
  message: string | undefined;
  userAgent: string;
  /** PKIOperation: the pkiMessage bytes as received (before any BER normalisation). */
  pkiMessage?: Buffer;
  decoded?: {
    messageType: MessageType;
    digest: DigestName;
    cipher: ContentCipher;
    keyTransport: KeyTransport;
    transactionId: string;
  };
}

export interface TestScepServer {
  url: string;
  received: ReceivedRequest[];
  rootPem: string;
  rootDer: Uint8Array;
  raDer: Uint8Array;
  /** Answer PENDING to the next N PKCSReqs (then issue on CertPoll). */
  pendingNext: number;
  close(): Promise<void>;
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const DAY = 86400_000;

async function importPair(key: KeyObject): Promise<webcrypto.CryptoKeyPair> {
  return {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      key.export({ format: 'der', type: 'pkcs8' }),
      RSA,
      true,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      createPublicKey(key).export({ format: 'der', type: 'spki' }),
      RSA,
      true,
      ['verify'],
    ),
  };
}

const serial = (): string => `01${randomBytes(8).toString('hex')}`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A minimal SCEP server (node:http, `@scepkit/scep`) that validates challenges with the emulator in-process and
 * reports issued certificates with successNotification. RA mode (NDES-style) unless `mode: 'ca'`.
 */
export async function startTestScepServer(o: {
  emulator: IntuneEmulator;
  tenant: string;
  clientId: string;
  clientSecret: string;
  mode?: 'ra' | 'ca';
  caps?: Capability[];
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
}): Promise<TestScepServer> {
  const now = (): number => o.emulator.ctx.now();
  const caKey = createPrivateKey(CLIENT_KEY_2048);
  const raKey = createPrivateKey(SIGNING_KEY_2048);
  const caKeys = await importPair(caKey);
  const raKeys = await importPair(raKey);
  const root = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: 'CN=scepkit Test Root CA,O=Contoso',
      notBefore: new Date(now() - DAY),
      notAfter: new Date(now() + 3650 * DAY),
      signingAlgorithm: RSA,
      keys: caKeys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign |
            x509.KeyUsageFlags.cRLSign |
            x509.KeyUsageFlags.digitalSignature |
            x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
      ],
    },
    webcrypto,
  );
  const ra = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: 'CN=scepkit Test RA,O=Contoso',
      issuer: root.subject,
      notBefore: new Date(now() - DAY),
      notAfter: new Date(now() + 3650 * DAY),
      signingAlgorithm: RSA,
      publicKey: raKeys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        // Certificate Request Agent: Windows wants an EKU on the RA (field #228).
        new x509.ExtendedKeyUsageExtension(['1.3.6.1.4.1.311.20.2.1']),
      ],
    },
    webcrypto,
  );
  const rootDer = new Uint8Array(root.rawData);
  const raDer = new Uint8Array(ra.rawData);
  const raMode = (o.mode ?? 'ra') === 'ra';
  const signer = raMode ? keyObjectSigner(raDer, raKey) : keyObjectSigner(rootDer, caKey);
  const decrypter = raMode ? keyObjectDecrypter(raDer, raKey) : keyObjectDecrypter(rootDer, caKey);
  const caps =
    o.caps ?? (['POSTPKIOperation', 'Renewal', 'SHA-512', 'SHA-256', 'SHA-1', 'AES', 'DES3'] as Capability[]);

  const intune = async (action: string, body: object): Promise<string> => {
    // A token per call: tests move the clock by months.
    const t = await o.emulator.handle({
        method: 'POST',
        url: `/${o.tenant}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: o.clientId,
          client_secret: o.clientSecret,
          scope: 'https://api.manage.microsoft.com//.default',
        }).toString(),
      });
    const bearer = String((t.body as Record<string, unknown>)['access_token']);
    const r = await o.emulator.handle({
      method: 'POST',
      url: `${SCEP_SERVICE_PATH}/ScepActions/${action}`,
      headers: {
        authorization: `Bearer ${bearer}`,
        'api-version': SCEP_API_VERSION,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return String((r.body as Record<string, unknown>)['code']);
  };

  const pending = new Map<string, Uint8Array>();
  const issue = async (csrDer: Uint8Array, transactionId: string): Promise<Uint8Array> => {
    const csr = new x509.Pkcs10CertificateRequest(csrDer);
    const fromCsr = csr.extensions.filter((e) => ['2.5.29.17', '2.5.29.15', '2.5.29.37'].includes(e.type));
    const extensions: x509.Extension[] = [...fromCsr];
    // Apple sends no EKU: the CA adds clientAuth.
    if (!fromCsr.some((e) => e.type === '2.5.29.37'))
      extensions.push(new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.2']));
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject: csr.subjectName,
        issuer: root.subject,
        notBefore: new Date(now()),
        notAfter: new Date(now() + 365 * DAY),
        signingAlgorithm: RSA,
        publicKey: csr.publicKey,
        signingKey: caKeys.privateKey,
        extensions,
      },
      webcrypto,
    );
    const der = new Uint8Array(cert.rawData);
    const code = await intune('successNotification', {
      notification: {
        transactionId,
        certificateRequest: Buffer.from(csrDer).toString('base64'),
        certificateThumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
        certificateSerialNumber: cert.serialNumber,
        certificateExpirationDateUtc: cert.notAfter.toISOString(),
        issuingCertificateAuthority: root.subject,
        callerInfo: 'scepkit-test-server',
      },
    });
    if (code !== 'Success') throw new Error(`successNotification: ${code}`);
    return der;
  };

  const received: ReceivedRequest[] = [];
  const state = { pendingNext: 0 };
  const handler: RequestListener = (req, res) => {
    void (async () => {
      const [path = '', rawQuery = ''] = (req.url ?? '').split('?', 2) as [string?, string?];
      const { operation, message } = parseScepQuery(rawQuery);
      const rec: ReceivedRequest = {
        method: req.method ?? '',
        path,
        rawQuery,
        operation,
        message,
        userAgent: String(req.headers['user-agent'] ?? ''),
      };
      received.push(rec);
      const body = await readBody(req);
      const send = (status: number, contentType: string, data: Uint8Array | string): void => {
        res.writeHead(status, { 'content-type': contentType });
        res.end(data);
      };
      if (path !== '/scep' && path !== '/scep/pkiclient.exe') return send(404, 'text/plain', 'not found');
      if (operation === 'GetCACaps') return send(200, CONTENT_TYPES.caps, formatCaps(caps));
      if (operation === 'GetCACert') {
        return raMode
          ? send(200, CONTENT_TYPES.caRaCert, buildCertsOnly([raDer, rootDer]))
          : send(200, CONTENT_TYPES.caCert, rootDer);
      }
      if (operation !== 'PKIOperation') return send(400, 'text/plain', 'bad operation');
      const raw = req.method === 'POST' ? body : Buffer.from(decodeBase64Message(message ?? ''));
      rec.pkiMessage = raw;
      const msg = decodePkiMessage(raw);
      const opened = await openScepRequest(msg, [decrypter]);
      rec.decoded = {
        messageType: msg.messageType,
        digest: msg.digest,
        cipher: opened.cipher,
        keyTransport: opened.keyTransport,
        transactionId: msg.transactionId,
      };
      const reply = async (
        status: 'SUCCESS' | 'FAILURE' | 'PENDING',
        certificates: Uint8Array[] = [],
      ): Promise<void> => {
        const rep = await buildCertRep({
          request: msg,
          status,
          ...(status === 'FAILURE' ? { failInfo: 'badRequest' as const, failInfoText: 'request refused' } : {}),
          ...(status === 'SUCCESS' ? { certificates } : {}),
          signer,
          requestCipher: opened.cipher,
        });
        send(200, CONTENT_TYPES.pkiMessage, rep);
      };
      const b = opened.body;
      if (b.messageType === 'PKCSReq' || b.messageType === 'RenewalReq') {
        const csr64 = Buffer.from(b.csr).toString('base64');
        const code = await intune('validateRequest', {
          request: { transactionId: msg.transactionId, certificateRequest: csr64, callerInfo: 'scepkit-test' },
        });
        if (code !== 'Success') {
          await intune('failureNotification', {
            notification: {
              transactionId: msg.transactionId,
              certificateRequest: csr64,
              hResult: -2146875374,
              errorDescription: `challenge validation failed: ${code}`,
              callerInfo: 'scepkit-test',
            },
          });
          return reply('FAILURE');
        }
        if (state.pendingNext > 0) {
          state.pendingNext--;
          pending.set(msg.transactionId, b.csr);
          return reply('PENDING');
        }
        return reply('SUCCESS', [await issue(b.csr, msg.transactionId), rootDer]);
      }
      if (b.messageType === 'CertPoll') {
        const csr = pending.get(msg.transactionId);
        if (!csr) return reply('FAILURE');
        pending.delete(msg.transactionId);
        return reply('SUCCESS', [await issue(csr, msg.transactionId), rootDer]);
      }
      return reply('FAILURE');
    })().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  };
  const server: Server = o.tls
    ? createHttpsServer({ cert: o.tls.certPem, key: o.tls.keyPem }, handler)
    : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}/scep`,
    received,
    rootPem: root.toString('pem'),
    rootDer,
    raDer,
    get pendingNext() {
      return state.pendingNext;
    },
    set pendingNext(n: number) {
      state.pendingNext = n;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
