import { createHash, createPublicKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import type * as Pkcs11Module from 'pkcs11js';
import { toArrayBuffer } from '../bytes.js';
import { SignerError } from '../errors.js';
import {
  defaultHash,
  nodeHashName,
  signatureAlgorithm,
  type HashName,
  type SignatureAlgorithm,
  type Signer,
} from './signer.js';

export interface Pkcs11SignerOptions {
  /** Path of the PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string;
  /** Token label (the slot holding it is found by label). */
  tokenLabel: string;
  /** User PIN. Never logged. */
  pin: string;
  /** CKA_LABEL of the private key (and of its public key object). */
  keyLabel?: string;
  /** CKA_ID of the key, hex. */
  keyId?: string;
  /** Digest; default SHA-256 (SHA-384 for P-384). */
  hash?: HashName;
}

const EC_CURVES: Record<string, { name: 'P-256' | 'P-384'; size: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', size: 32 },
  '1.3.132.0.34': { name: 'P-384', size: 48 },
};

type Pkcs11 = InstanceType<typeof Pkcs11Module.PKCS11>;
type Handle = Buffer;

/**
 * A `Signer` whose private key stays in a PKCS#11 token (HSM, SoftHSM2). One session, logged in once at
 * `open`; signatures are serialised on it (PKCS#11 sessions allow one operation at a time) and run off the
 * event loop (`C_SignAsync`). RSA uses CKM_SHAxxx_RSA_PKCS; EC uses CKM_ECDSA on a node:crypto digest and the
 * raw r||s is re-encoded as a DER ECDSA-Sig-Value with asn1js.
 *
 * @example
 * const signer = await Pkcs11Signer.open({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'ca', pin, keyLabel: 'ca-key' });
 */
export class Pkcs11Signer implements Signer {
  readonly algorithm: SignatureAlgorithm;
  readonly publicKeySpki: Uint8Array;
  readonly #p11: Pkcs11;
  readonly #consts: typeof Pkcs11Module;
  readonly #session: Handle;
  readonly #key: Handle;
  readonly #mechanism: number;
  readonly #ecSize: number;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(init: {
    p11: Pkcs11;
    consts: typeof Pkcs11Module;
    session: Handle;
    key: Handle;
    spki: Uint8Array;
    algorithm: SignatureAlgorithm;
    mechanism: number;
    ecSize: number;
  }) {
    this.#p11 = init.p11;
    this.#consts = init.consts;
    this.#session = init.session;
    this.#key = init.key;
    this.publicKeySpki = init.spki;
    this.algorithm = init.algorithm;
    this.#mechanism = init.mechanism;
    this.#ecSize = init.ecSize;
  }

  /** Load the module, find the token and key, log in. pkcs11js is loaded only here (it is a native addon). */
  static async open(options: Pkcs11SignerOptions): Promise<Pkcs11Signer> {
    if (!options.keyLabel && !options.keyId) throw new SignerError('pkcs11', 'keyLabel or keyId is required');
    let consts: typeof Pkcs11Module;
    try {
      const mod = (await import('pkcs11js')) as unknown as {
        default?: typeof Pkcs11Module;
      } & typeof Pkcs11Module;
      consts = mod.default ?? mod;
    } catch (err) {
      throw new SignerError('pkcs11', 'the pkcs11js native module could not be loaded', err);
    }
    const p11 = new consts.PKCS11();
    let session: Handle | undefined;
    try {
      p11.load(options.module);
      p11.C_Initialize();
      const slot = p11
        .C_GetSlotList(true)
        .find((s) => p11.C_GetTokenInfo(s).label.trim() === options.tokenLabel);
      if (!slot) throw new SignerError('pkcs11', `no token labelled ${options.tokenLabel}`);
      session = p11.C_OpenSession(slot, consts.CKF_SERIAL_SESSION | consts.CKF_RW_SESSION);
      p11.C_Login(session, consts.CKU_USER, options.pin);
      const match = [
        ...(options.keyLabel ? [{ type: consts.CKA_LABEL, value: options.keyLabel }] : []),
        ...(options.keyId ? [{ type: consts.CKA_ID, value: Buffer.from(options.keyId, 'hex') }] : []),
      ];
      const key = findOne(p11, session, [
        { type: consts.CKA_CLASS, value: consts.CKO_PRIVATE_KEY },
        ...match,
      ]);
      const pub = findOne(p11, session, [{ type: consts.CKA_CLASS, value: consts.CKO_PUBLIC_KEY }, ...match]);
      if (!key || !pub) throw new SignerError('pkcs11', 'key pair not found on the token');
      const keyType = p11.C_GetAttributeValue(session, key, [{ type: consts.CKA_KEY_TYPE }])[0]?.value;
      const info = readPublicKey(p11, consts, session, pub, Number(asNumber(keyType)));
      const hash = options.hash ?? defaultHash(info.type, info.curve);
      const mechanism =
        info.type === 'ec'
          ? consts.CKM_ECDSA
          : {
              'SHA-256': consts.CKM_SHA256_RSA_PKCS,
              'SHA-384': consts.CKM_SHA384_RSA_PKCS,
              'SHA-512': consts.CKM_SHA512_RSA_PKCS,
            }[hash];
      return new Pkcs11Signer({
        p11,
        consts,
        session,
        key,
        spki: info.spki,
        algorithm: signatureAlgorithm(info.type, hash),
        mechanism,
        ecSize: info.ecSize,
      });
    } catch (err) {
      try {
        if (session) p11.C_CloseSession(session);
        p11.C_Finalize();
      } catch {
        // best effort
      }
      if (err instanceof SignerError) throw err;
      throw new SignerError('pkcs11', 'PKCS#11 initialisation failed', err);
    }
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#signNow(data));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #signNow(data: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new SignerError('pkcs11', 'the PKCS#11 signer is closed');
    const ec = this.algorithm.keyType === 'ec';
    const input = ec
      ? createHash(nodeHashName(this.algorithm.hash)).update(data).digest()
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      this.#p11.C_SignInit(this.#session, { mechanism: this.#mechanism }, this.#key);
      const sig = await this.#p11.C_SignAsync(this.#session, input, Buffer.alloc(1024));
      return ec ? ecdsaDer(sig, this.#ecSize) : new Uint8Array(sig);
    } catch (err) {
      throw new SignerError('sign-failed', 'PKCS#11 signing failed', err);
    }
  }

  /** Log out and release the module (waits for queued signatures). */
  async close(): Promise<void> {
    await this.#queue;
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#p11.C_Logout(this.#session);
      this.#p11.C_CloseSession(this.#session);
    } finally {
      this.#p11.C_Finalize();
    }
  }

  /** The pkcs11js constants in use (for callers that need mechanism numbers). */
  get constants(): typeof Pkcs11Module {
    return this.#consts;
  }
}

function findOne(p11: Pkcs11, session: Handle, template: Pkcs11Module.Template): Handle | null {
  p11.C_FindObjectsInit(session, template);
  try {
    return p11.C_FindObjects(session);
  } finally {
    p11.C_FindObjectsFinal(session);
  }
}

function asNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) return v.length >= 4 ? v.readUInt32LE(0) : (v[0] ?? -1);
  return -1;
}

function readPublicKey(
  p11: Pkcs11,
  c: typeof Pkcs11Module,
  session: Handle,
  pub: Handle,
  keyType: number,
): { type: 'rsa' | 'ec'; spki: Uint8Array; curve?: string; ecSize: number } {
  const b64u = (b: Buffer) => b.toString('base64url');
  if (keyType === c.CKK_RSA) {
    const [n, e] = p11.C_GetAttributeValue(session, pub, [
      { type: c.CKA_MODULUS },
      { type: c.CKA_PUBLIC_EXPONENT },
    ]);
    const jwk = { kty: 'RSA', n: b64u(n?.value as Buffer), e: b64u(e?.value as Buffer) };
    return { type: 'rsa', spki: spkiFromJwk(jwk), ecSize: 0 };
  }
  if (keyType === c.CKK_EC) {
    const [params, point] = p11.C_GetAttributeValue(session, pub, [
      { type: c.CKA_EC_PARAMS },
      { type: c.CKA_EC_POINT },
    ]);
    const oid = asn1js.fromBER(toArrayBuffer(params?.value as Buffer)).result;
    const curve = oid instanceof asn1js.ObjectIdentifier ? EC_CURVES[oid.valueBlock.toString()] : undefined;
    if (!curve) throw new SignerError('unsupported-algorithm', 'unsupported EC curve on the token');
    // CKA_EC_POINT is the DER OCTET STRING of the uncompressed point 04 || X || Y.
    const os = asn1js.fromBER(toArrayBuffer(point?.value as Buffer)).result;
    const q = os instanceof asn1js.OctetString ? Buffer.from(os.valueBlock.valueHexView) : Buffer.alloc(0);
    if (q.length !== 1 + 2 * curve.size || q[0] !== 4) throw new SignerError('pkcs11', 'unexpected EC point');
    const jwk = {
      kty: 'EC',
      crv: curve.name,
      x: b64u(q.subarray(1, 1 + curve.size)),
      y: b64u(q.subarray(1 + curve.size)),
    };
    return { type: 'ec', spki: spkiFromJwk(jwk), curve: curve.name, ecSize: curve.size };
  }
  throw new SignerError('unsupported-algorithm', `unsupported PKCS#11 key type ${keyType}`);
}

function spkiFromJwk(jwk: Record<string, string>): Uint8Array {
  return new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
}

/** PKCS#11 ECDSA gives r || s; X.509 wants ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }. */
function ecdsaDer(raw: Buffer, size: number): Uint8Array {
  if (raw.length !== 2 * size) throw new SignerError('sign-failed', 'unexpected ECDSA signature length');
  const int = (b: Buffer) => asn1js.Integer.fromBigInt(BigInt(`0x${b.toString('hex')}`));
  const seq = new asn1js.Sequence({ value: [int(raw.subarray(0, size)), int(raw.subarray(size))] });
  return new Uint8Array(seq.toBER());
}
