/*
 * HTTP fuzzing of a running scepkit: what a hostile network can send to PKIOperation, at three depths.
 *  - outer:    edits of whole pkiMessages (ours and real client captures): mostly stops at the signature check;
 *  - envelope: edits of the pkcsPKIEnvelope of a valid request, re-signed: reaches decryption and content decoding;
 *  - csr:      edits of the PKCS#10 inside a properly encrypted and signed PKCSReq: reaches CSR parsing and policy;
 *  - random:   random bytes, sometimes shaped like a SEQUENCE.
 * Each case goes by POST or GET. The answer must be 400, or 200 with a CertRep signed by the CA/RA, FAILURE unless
 * the bytes sent still form an authenticated request. Never 500, never a hang.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildPkiRequest, decodePkiMessage } from '@scepkit/scep';
import { pathToFileURL } from 'node:url';
import type * as Arbitraries from '../../packages/scep/dist/testing/arbitraries.js';
import type { CaView, Device } from '../reliability/harness.js';
import { pkiOperation } from '../reliability/harness.js';
import { REPO } from './tools.js';

/** The codec's own arbitraries (packages/scep/src/testing), loaded from the build like the CLI modules in e2e. */
export const codecArbitraries = (await import(
  pathToFileURL(join(REPO, 'packages/scep/dist/testing/arbitraries.js')).href
)) as typeof Arbitraries;
const { mutationArb, randomDerishArb, resignedRequest } = codecArbitraries;

/** Every real request capture under packages/scep/testdata/by-client (`*.req.der`). */
export function captureRequests(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.req.der')) out.push(new Uint8Array(readFileSync(p)));
    }
  };
  walk(join(REPO, 'packages/scep/testdata/by-client'));
  return out;
}

export type Depth = 'outer' | 'envelope' | 'csr' | 'random';

export interface FuzzCase {
  depth: Depth;
  method: 'POST' | 'GET';
  /** Builds the bytes to send. */
  build: () => Promise<Uint8Array>;
  /** For the counterexample printout. */
  toString(): string;
}

export interface FuzzInputs {
  ca: CaView;
  /** Valid PKCSReq messages (their device and CSR alongside). */
  requests: { der: Uint8Array; device: Device }[];
  captures: Uint8Array[];
}

const edits = fc.array(mutationArb, { minLength: 1, maxLength: 4 });
const method = fc.constantFrom<'POST' | 'GET'>('POST', 'GET');

function fuzzCase(depth: Depth, m: 'POST' | 'GET', build: () => Promise<Uint8Array>, what: string): FuzzCase {
  return { depth, method: m, build, toString: () => `${depth}/${m}/${what}` };
}

export function fuzzCaseArb(inputs: FuzzInputs): fc.Arbitrary<FuzzCase> {
  const nReq = inputs.requests.length;
  const envelopes = inputs.requests.map((r) => decodePkiMessage(r.der).envelope!);
  const outerBases = [...inputs.requests.map((r) => r.der), ...inputs.captures];
  const apply = (b: Uint8Array, ms: ((b: Uint8Array) => Uint8Array)[]) => ms.reduce((x, f) => f(x), b);
  return fc.oneof(
    fc
      .tuple(fc.nat(outerBases.length - 1), edits, method)
      .map(([i, ms, m]) =>
        fuzzCase('outer', m, async () => apply(outerBases[i]!, ms), `base ${i}, ${ms.length} edits`),
      ),
    fc
      .tuple(fc.nat(nReq - 1), edits, method)
      .map(([i, ms, m]) =>
        fuzzCase(
          'envelope',
          m,
          () => resignedRequest(inputs.requests[i]!.device.signer, apply(envelopes[i]!, ms)),
          `request ${i}, ${ms.length} edits`,
        ),
      ),
    fc.tuple(fc.nat(nReq - 1), edits, method).map(([i, ms, m]) =>
      fuzzCase(
        'csr',
        m,
        async () => {
          const r = inputs.requests[i]!;
          const built = await buildPkiRequest({
            body: { messageType: 'PKCSReq', csr: apply(r.device.csr, ms) },
            signer: r.device.signer,
            recipients: [inputs.ca.recipient],
            // Given, so that the builder does not parse the (mutated) CSR to derive it.
            transactionId: `fuzz-csr-${i}`,
            digest: 'sha256',
            cipher: 'aes-256-cbc',
          });
          return built.der;
        },
        `request ${i}, ${ms.length} edits`,
      ),
    ),
    fc
      .tuple(randomDerishArb, method)
      .map(([b, m]) => fuzzCase('random', m, async () => b, `${b.length} random bytes`)),
  );
}

export interface FuzzTally {
  cases: number;
  byDepth: Record<Depth, number>;
  http400: number;
  failure: number;
  success: number;
  pending: number;
}

export function newTally(): FuzzTally {
  return {
    cases: 0,
    byDepth: { outer: 0, envelope: 0, csr: 0, random: 0 },
    http400: 0,
    failure: 0,
    success: 0,
    pending: 0,
  };
}

/** Sends one case and checks the answer; throws (the property fails) on a 5xx, a hang or a bad answer. */
export async function checkCase(
  scepUrl: string,
  ca: CaView,
  c: FuzzCase,
  tally: FuzzTally,
  timeoutMs = 15_000,
): Promise<void> {
  const sent = await c.build();
  const ans = await pkiOperation(scepUrl, sent, c.method, timeoutMs);
  tally.cases++;
  tally.byDepth[c.depth]++;
  if (ans.status === 400) {
    tally.http400++;
    return;
  }
  assert.equal(ans.status, 200, `HTTP ${ans.status}: ${Buffer.from(ans.body).toString().slice(0, 200)}`);
  const rep = decodePkiMessage(ans.body, { extraCertificates: ca.all });
  assert.equal(rep.messageType, 'CertRep');
  assert.ok(
    ca.all.some((c) => Buffer.from(c).equals(Buffer.from(rep.signerCertificate))),
    'CertRep signed by the CA or RA',
  );
  if (rep.pkiStatus === 'FAILURE') {
    assert.ok(rep.failInfo, 'a FAILURE carries a failInfo');
    tally.failure++;
    return;
  }
  // SUCCESS or PENDING only for bytes that still form an authenticated request.
  assert.doesNotThrow(() => decodePkiMessage(sent), `${rep.pkiStatus} for an unauthenticated request`);
  if (rep.pkiStatus === 'SUCCESS') tally.success++;
  else tally.pending++;
}

/** The default case count, or `SCEPKIT_FUZZ_RUNS`. */
export function fuzzRuns(defaultRuns: number): number {
  const n = Number(process.env['SCEPKIT_FUZZ_RUNS'] ?? defaultRuns);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : defaultRuns;
}
