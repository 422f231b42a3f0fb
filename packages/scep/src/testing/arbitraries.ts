/*
 * fast-check arbitraries and fuzz targets for the codec, shared by `malformed.test.ts` (a few thousand runs in every
 * test run) and `fuzz.ts` (`npm run fuzz -w @scepkit/scep`, many more).
 */
import fc from 'fast-check';
import { ScepError } from '../errors.js';
import { decodePkiMessage, openScepRequest } from '../pki-message.js';
import type { PkiMessage } from '../pki-message.js';
import { buildScepAttributes } from '../attributes.js';
import { buildSignedData } from '../signed-data.js';
import type { ScepSigner } from '../keys.js';
import { openEnvelopedData } from '../enveloped-data.js';
import { parseCertsOnly } from '../degenerate.js';
import { readCsr } from '../csr.js';
import { decodeBase64Message, parseScepQuery } from '../transport.js';
import type { ScepDecrypter } from '../keys.js';

/** Bytes worth writing over a DER byte: tags, length forms, boundaries. */
export const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x1f, 0x24, 0x30, 0x31, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x88,
  0xa0, 0xa1, 0xff,
] as const;

/** One edit of a byte string. */
export type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number };

/** Positions are fractions of the input length, so one mutation applies to any input. */
const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const at = (frac: number, len: number) => Math.min(len - 1, Math.floor(frac * len));

export const mutationArb: fc.Arbitrary<(b: Uint8Array) => Uint8Array> = fc.oneof(
  fc.tuple(position, fc.integer({ min: 1, max: 255 })).map(
    ([p, mask]) =>
      (b: Uint8Array) =>
        apply(b, { kind: 'flip', at: at(p, b.length), mask }),
  ),
  fc.tuple(position, fc.constantFrom(...INTERESTING_BYTES)).map(
    ([p, value]) =>
      (b: Uint8Array) =>
        apply(b, { kind: 'set', at: at(p, b.length), value }),
  ),
  position.map((p) => (b: Uint8Array) => apply(b, { kind: 'truncate', at: at(p, b.length) })),
  fc.tuple(position, fc.integer({ min: 1, max: 64 })).map(
    ([p, length]) =>
      (b: Uint8Array) =>
        apply(b, { kind: 'delete', at: at(p, b.length), length }),
  ),
  fc.tuple(position, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(
    ([p, bytes]) =>
      (b: Uint8Array) =>
        apply(b, { kind: 'insert', at: at(p, b.length), bytes }),
  ),
  fc.tuple(position, fc.integer({ min: 1, max: 256 })).map(
    ([p, length]) =>
      (b: Uint8Array) =>
        apply(b, { kind: 'duplicate', at: at(p, b.length), length }),
  ),
);

/** Applies one mutation; never returns the input object itself. */
export function apply(b: Uint8Array, m: Mutation): Uint8Array {
  const buf = Buffer.from(b);
  if (buf.length === 0) return m.kind === 'insert' ? new Uint8Array(m.bytes) : new Uint8Array(0);
  switch (m.kind) {
    case 'flip':
      buf[m.at] = buf[m.at]! ^ m.mask;
      return new Uint8Array(buf);
    case 'set':
      buf[m.at] = m.value;
      return new Uint8Array(buf);
    case 'truncate':
      return new Uint8Array(buf.subarray(0, m.at));
    case 'delete':
      return new Uint8Array(Buffer.concat([buf.subarray(0, m.at), buf.subarray(m.at + m.length)]));
    case 'insert':
      return new Uint8Array(Buffer.concat([buf.subarray(0, m.at), m.bytes, buf.subarray(m.at)]));
    case 'duplicate':
      return new Uint8Array(
        Buffer.concat([
          buf.subarray(0, m.at + m.length),
          buf.subarray(m.at, m.at + m.length),
          buf.subarray(m.at + m.length),
        ]),
      );
  }
}

/** One to `max` mutations of one of `inputs`. */
export function mutatedArb(inputs: readonly Uint8Array[], max = 4): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...inputs), fc.array(mutationArb, { minLength: 1, maxLength: max }))
    .map(([input, ms]) => ms.reduce((b, m) => m(b), input));
}

/** Random bytes, sometimes starting like a SEQUENCE so that they get past the first check. */
export const randomDerishArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc
    .tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0x04), fc.uint8Array({ maxLength: 600 }))
    .map(([tag, body]) => new Uint8Array(Buffer.concat([Buffer.from([tag]), lengthOf(body.length), body]))),
);

function lengthOf(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

/** Runs `fn`; anything thrown other than a `ScepError` is re-thrown with context (the property fails). */
export function onlyScepErrors(what: string, fn: () => unknown): 'ok' | ScepError {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return scepErrorOnly(what, e);
  }
}

/** `onlyScepErrors` for an asynchronous `fn`. */
export async function onlyScepErrorsAsync(
  what: string,
  fn: () => Promise<unknown>,
): Promise<'ok' | ScepError> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return scepErrorOnly(what, e);
  }
}

function scepErrorOnly(what: string, e: unknown): ScepError {
  if (e instanceof ScepError) return e;
  throw new Error(`${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, {
    cause: e,
  });
}

/** Every parser the server exposes to untrusted bytes, for one input. */
export function fuzzTargets(
  decrypters: readonly ScepDecrypter[],
): ((input: Uint8Array) => Promise<unknown> | undefined)[] {
  return [
    (b) => {
      let msg: PkiMessage | undefined;
      onlyScepErrors('decodePkiMessage', () => (msg = decodePkiMessage(b)));
      return msg && fuzzOpen(msg, decrypters);
    },
    (b) => void onlyScepErrors('parseCertsOnly', () => parseCertsOnly(b)),
    (b) => onlyScepErrorsAsync('openEnvelopedData', () => openEnvelopedData(b, decrypters)),
    (b) => void onlyScepErrors('readCsr', () => readCsr(b)),
  ];
}

/** Runs every target on `input`, one after the other. */
export async function runTargets(
  targets: readonly ((input: Uint8Array) => Promise<unknown> | undefined)[],
  input: Uint8Array,
): Promise<void> {
  for (const t of targets) await t(input);
}

/** GET query strings: random, and mutations of a real one. */
export function queryArb(realQueries: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 300 }),
    fc
      .constantFrom(...realQueries)
      .chain((q) =>
        fc
          .tuple(
            fc.nat(q.length),
            fc.nat(q.length),
            fc.constantFrom('', '%', '%2', '%zz', '=', '&', '+', ' ', '\n', '\u00e9', '=='),
          )
          .map(([a, b, ins]) => q.slice(0, Math.min(a, b)) + ins + q.slice(Math.max(a, b))),
      ),
  );
}

export function fuzzQuery(q: string): void {
  onlyScepErrors('parseScepQuery/decodeBase64Message', () => {
    const { message } = parseScepQuery(q);
    if (message !== undefined) decodeBase64Message(message);
  });
}

/** Decrypts and decodes an authenticated request; only `ScepError`s may come out. */
export async function fuzzOpen(msg: PkiMessage, decrypters: readonly ScepDecrypter[]): Promise<void> {
  await onlyScepErrorsAsync('openScepRequest', async () => {
    const req = await openScepRequest(msg, decrypters);
    if (req.body.messageType === 'PKCSReq' || req.body.messageType === 'RenewalReq') readCsr(req.body.csr);
  });
}

/**
 * Signs `envelope` (any bytes, typically a mutated EnvelopedData) as a valid PKCSReq, so that the mutation gets past
 * the signature check and reaches decryption and content decoding.
 */
export async function resignedRequest(signer: ScepSigner, envelope: Uint8Array): Promise<Uint8Array> {
  return buildSignedData({
    signer,
    digest: 'sha256',
    attributes: buildScepAttributes({
      messageType: 'PKCSReq',
      transactionId: 'fuzz',
      senderNonce: new Uint8Array(16),
    }),
    content: envelope,
  });
}
