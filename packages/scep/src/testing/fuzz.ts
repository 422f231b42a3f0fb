/*
 * A long fuzz run over the same properties as malformed.test.ts: `npm run fuzz -w @scepkit/scep -- [runs] [seed]`.
 * Exits non-zero, printing the seed and counterexample, when any parser throws something other than a ScepError.
 */
import fc from 'fast-check';
import { buildCertsOnly } from '../degenerate.js';
import { keyObjectDecrypter } from '../keys.js';
import { decodePkiMessage } from '../pki-message.js';
import {
  fuzzOpen,
  fuzzQuery,
  fuzzTargets,
  runTargets,
  mutatedArb,
  queryArb,
  randomDerishArb,
  resignedRequest,
} from './arbitraries.js';
import { readCertPem, readKey, readVector } from './fixtures.js';
import { keyObjectSigner } from '../keys.js';

const runs = Number(process.argv[2] ?? 100_000);
const seed = process.argv[3] === undefined ? Date.now() : Number(process.argv[3]);
const decrypters = [
  keyObjectDecrypter(readCertPem('cas/micromdm-ca/ca.pem'), readKey('cas/micromdm-ca/ca.key.pem')),
  keyObjectDecrypter(readCertPem('cas/ku-ca/ca.pem'), readKey('cas/ku-ca/ca.key.pem')),
];
const requests = [
  'by-client/micromdm-scepclient/PKCSReq-POST-sha1-descbc.req.der',
  'by-client/micromdm-scepclient/RenewalReq-POST-sha1-descbc.req.der',
  'by-client/certmonger/PKCSReq-GET-sha256-aes256.req.der',
  'by-client/certmonger/CertPoll-GetCertInitial-GET.req.der',
].map(readVector);
const replies = [
  'by-client/micromdm-scepclient/PKCSReq-POST.resp-CertRep-SUCCESS-sha1-descbc.der',
  'by-client/micromdm-scepclient/PKCSReq-POST-wrong-challenge.resp-CertRep-FAILURE-badRequest.der',
].map(readVector);
const certsOnly = buildCertsOnly([
  readCertPem('cas/micromdm-ca/ca.pem'),
  readCertPem('by-client/micromdm-scepclient/issued-cert-serial02.pem'),
]);
const targets = fuzzTargets(decrypters);
// Re-signing needs a key and its certificate: the micromdm CA's will do.
const signer = keyObjectSigner(readCertPem('cas/micromdm-ca/ca.pem'), readKey('cas/micromdm-ca/ca.key.pem'));
const envelopes = requests.map((r) => decodePkiMessage(r).envelope!);

const t0 = Date.now();
const report = (name: string) => console.log(`${name}: ok (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
const opts = { numRuns: runs, seed };
console.log(`fuzz: ${runs} runs per property, seed ${seed}`);
await fc.assert(
  fc.asyncProperty(randomDerishArb, (b) => runTargets(targets, b)),
  opts,
);
report('random bytes');
await fc.assert(
  fc.asyncProperty(mutatedArb([...requests, ...replies, certsOnly], 6), (b) => runTargets(targets, b)),
  opts,
);
report('mutated vectors');
fc.assert(
  fc.property(
    queryArb(requests.map((r) => `operation=PKIOperation&message=${Buffer.from(r).toString('base64')}`)),
    fuzzQuery,
  ),
  opts,
);
report('GET queries');
await fc.assert(
  fc.asyncProperty(mutatedArb(envelopes, 4), async (env) => {
    let msg;
    try {
      msg = decodePkiMessage(await resignedRequest(signer, env));
    } catch {
      return;
    }
    await fuzzOpen(msg, decrypters);
  }),
  { ...opts, numRuns: Math.ceil(runs / 20) },
);
report('re-signed mutated envelopes');
