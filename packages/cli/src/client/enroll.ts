import 'reflect-metadata';
import { KeyObject, X509Certificate, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  buildPkiRequest,
  chooseCipher,
  chooseDigest,
  decodeCertRep,
  keyObjectDecrypter,
  keyObjectSigner,
  parseCertificate,
  readCsr,
  selfSignedCertificate,
} from '@scepkit/scep';
import type { Capability, CertRepResult, RequestBody } from '@scepkit/scep';
import { CliError } from '../errors.js';
import { ScepHttpClient, checkFingerprint } from './scep-http-client.js';

export interface EnrollOptions {
  url: string;
  challenge?: string;
  /** RFC 4514-style subject, e.g. `CN=device-1,O=Example`. */
  subject: string;
  dns?: string[];
  emails?: string[];
  upns?: string[];
  uris?: string[];
  keySize?: number;
  /** SHA-256 (or SHA-1) fingerprint that one GetCACert certificate must have. */
  caFingerprint?: string;
  /** PEM of extra CAs to trust for HTTPS. */
  tlsCa?: string;
  /**
   * Send this prebuilt PKCS#10 (DER) and its key instead of making them (e.g. the exact CSR an Intune device
   * builds); `subject`, `challenge`, SANs and `keySize` are then ignored.
   */
  csr?: { der: Uint8Array; privateKey: KeyObject };
  /** Renew: the current certificate and key sign a RenewalReq. */
  renew?: { certificate: Uint8Array; key: KeyObject };
  /** Force PKIOperation by GET even when the server offers POST. */
  forceGet?: boolean;
  pollIntervalMs?: number;
  maxPolls?: number;
  timeoutMs?: number;
  progress?: (line: string) => void;
}

export interface EnrollResult {
  certificate: Uint8Array;
  chain: Uint8Array[];
  privateKey: KeyObject;
  transactionId: string;
  caps: Set<Capability>;
}

async function makeKeyAndCsr(o: EnrollOptions): Promise<{ csr: Uint8Array; privateKey: KeyObject }> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(
    { ...alg, modulusLength: o.keySize ?? 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const names: x509.JsonGeneralName[] = [
    ...(o.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.emails ?? []).map((value) => ({ type: 'email' as const, value })),
    ...(o.upns ?? []).map((value) => ({ type: 'upn' as const, value })),
    ...(o.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: o.subject,
    keys,
    signingAlgorithm: alg,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [],
    attributes: o.challenge ? [new x509.ChallengePasswordAttribute(o.challenge)] : [],
  });
  return { csr: new Uint8Array(csr.rawData), privateKey: KeyObject.from(keys.privateKey) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Enrolls (or renews) over SCEP: GetCACaps, GetCACert (pinned), key + CSR, PKCSReq/RenewalReq, polling on PENDING. */
export async function enroll(o: EnrollOptions): Promise<EnrollResult> {
  const say = o.progress ?? (() => {});
  const client = new ScepHttpClient(new URL(o.url), {
    ...(o.tlsCa ? { ca: o.tlsCa } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
  const caps = await client.getCaCaps();
  say(`GetCACaps: ${[...caps].join(', ') || '(none)'}`);
  const cacerts = await client.getCaCert();
  say(`GetCACert: ${cacerts.all.length} certificate(s)`);
  if (o.caFingerprint) {
    checkFingerprint(cacerts.all, o.caFingerprint);
    say('CA fingerprint matches');
  }
  if (o.renew && !caps.has('Renewal')) throw new CliError('enroll', 'the server does not offer Renewal');

  const { csr, privateKey } = o.csr
    ? { csr: o.csr.der, privateKey: o.csr.privateKey }
    : await makeKeyAndCsr(o);
  const messageType = o.renew ? 'RenewalReq' : 'PKCSReq';
  const signerCert = o.renew
    ? o.renew.certificate
    : selfSignedCertificate({ subject: readCsr(csr).subject, privateKey });
  const signerKey = o.renew ? o.renew.key : privateKey;
  const signer = keyObjectSigner(signerCert, signerKey);
  const decrypter = keyObjectDecrypter(signerCert, signerKey);
  const usePost = caps.has('POSTPKIOperation') && !o.forceGet;
  const digest = chooseDigest(caps);
  const cipher = chooseCipher(caps);

  const send = async (body: RequestBody, transactionId?: string): Promise<[CertRepResult, string]> => {
    const req = await buildPkiRequest({
      body,
      signer,
      recipients: [cacerts.recipient],
      digest,
      cipher,
      ...(transactionId ? { transactionId } : {}),
    });
    const raw = await client.pkiOperation(req.der, usePost);
    const rep = await decodeCertRep(raw, {
      decrypter,
      expect: { transactionId: req.transactionId, senderNonce: req.senderNonce },
      trustedSigners: cacerts.all,
    });
    return [rep, req.transactionId];
  };

  say(`${messageType} (${digest}, ${cipher}, ${usePost ? 'POST' : 'GET'})`);
  const first = await send({ messageType, csr });
  let rep = first[0];
  const transactionId = first[1];
  const issuer = parseCertificate(cacerts.ca).subject;
  for (let polls = 0; rep.status === 'PENDING'; polls++) {
    if (polls >= (o.maxPolls ?? 60)) throw new CliError('enroll', `still PENDING after ${polls} polls`);
    say('PENDING: waiting for approval');
    await sleep(o.pollIntervalMs ?? 5000);
    [rep] = await send({ messageType: 'CertPoll', issuer, subject: readCsr(csr).subject }, transactionId);
  }
  if (rep.status === 'FAILURE') {
    throw new CliError(
      'enroll',
      `the CA refused: ${rep.failInfo}${rep.failInfoText ? ` (${rep.failInfoText})` : ''}`,
    );
  }
  const spki = readCsr(csr).publicKey;
  const mine = rep.certificates.find((c) =>
    new X509Certificate(c).publicKey.export({ format: 'der', type: 'spki' }).equals(spki),
  );
  if (!mine) throw new CliError('enroll', 'the CertRep holds no certificate for our key');
  const chain = [...rep.certificates.filter((c) => c !== mine)];
  for (const c of cacerts.all) {
    const x = new X509Certificate(c);
    if (x.ca && !chain.some((d) => Buffer.compare(d, c) === 0)) chain.push(c);
  }
  say(`issued: ${new X509Certificate(mine).subject.replace(/\n/g, ', ')}`);
  return { certificate: mine, chain, privateKey, transactionId, caps };
}
