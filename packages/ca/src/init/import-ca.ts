import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { fromPem, toArrayBuffer } from '../bytes.js';
import { KeyError } from '../errors.js';
import { KeyObjectSigner, importPrivateKey } from '../signer/key-object-signer.js';
import type { HashName } from '../signer/signer.js';
import { CaIdentity } from './ca-identity.js';

export interface ImportCaOptions {
  /** The CA certificate (PEM or DER). With PEM, further certificates in the same text are taken as the chain. */
  certificate: string | Uint8Array;
  /** Issuer certificates up to the root (PEM bundle or DER list), any order. */
  chain?: string | readonly Uint8Array[];
  /** The CA key: PEM (PKCS#8 plain or encrypted, PKCS#1, SEC1) or DER PKCS#8. */
  key: string | Uint8Array;
  passphrase?: string;
  hash?: HashName;
}

/** An imported CA: identity (ready to sign) and its key (to re-store encrypted, `writePrivateKeyFile`). */
export interface ImportedCa {
  identity: CaIdentity;
  privateKey: KeyObject;
}

/**
 * Run an existing CA (typically a subordinate of a corporate root): check that it is a CA, that the key matches,
 * and order its chain up to a self-signed root (each link's signature verified).
 * @throws KeyError bad-format | bad-passphrase | key-mismatch
 */
export function importCa(options: ImportCaOptions): ImportedCa {
  const certs =
    typeof options.certificate === 'string' ? pemCerts(options.certificate) : [options.certificate];
  const [caDer, ...rest] = certs;
  if (!caDer) throw new KeyError('bad-format', 'no CA certificate given');
  const chain = typeof options.chain === 'string' ? pemCerts(options.chain) : [...(options.chain ?? [])];
  const privateKey = importPrivateKey(options.key, options.passphrase);
  return assemble(caDer, [...rest, ...chain], privateKey, options.hash);
}

/**
 * Import a CA from PKCS#12 (pkijs): the key bag, the certificate matching it, and the other certificates as chain.
 * PBES2 (AES) protected files, as OpenSSL 3 writes by default, are supported; legacy RC2/3DES ones are not
 * (re-export them with `openssl pkcs12 -export -keypbe AES-256-CBC -certpbe AES-256-CBC`).
 */
export async function importPkcs12(
  data: Uint8Array,
  password: string,
  options: { hash?: HashName } = {},
): Promise<ImportedCa> {
  const pwd = toArrayBuffer(new TextEncoder().encode(password));
  const certs: Uint8Array[] = [];
  const keys: KeyObject[] = [];
  try {
    const pfx = pkijs.PFX.fromBER(toArrayBuffer(data));
    await pfx.parseInternalValues({ password: pwd, checkIntegrity: true });
    const safe = pfx.parsedValue?.authenticatedSafe;
    if (!safe) throw new KeyError('bad-format', 'PKCS#12 without authenticated safe');
    await safe.parseInternalValues({ safeContents: safe.safeContents.map(() => ({ password: pwd })) });
    for (const contents of safe.parsedValue.safeContents) {
      for (const bag of contents.value.safeBags) {
        if (bag.bagValue instanceof pkijs.CertBag && bag.bagValue.parsedValue instanceof pkijs.Certificate) {
          certs.push(new Uint8Array(bag.bagValue.parsedValue.toSchema().toBER()));
        } else if (bag.bagValue instanceof pkijs.PKCS8ShroudedKeyBag) {
          await bag.bagValue.parseInternalValues({ password: pwd });
          const info = bag.bagValue.parsedValue;
          if (info) keys.push(pkcs8Key(info));
        } else if (bag.bagValue instanceof pkijs.PrivateKeyInfo) {
          keys.push(pkcs8Key(bag.bagValue));
        }
      }
    }
  } catch (err) {
    if (err instanceof KeyError) throw err;
    throw new KeyError(
      'bad-passphrase',
      'the PKCS#12 file could not be opened (password or unsupported cipher)',
      err,
    );
  }
  const [privateKey] = keys;
  if (!privateKey || keys.length !== 1)
    throw new KeyError('bad-format', 'the PKCS#12 file must hold exactly one key');
  const spki = privateKeySpki(privateKey);
  const own = certs.find((c) =>
    Buffer.from(new X509Certificate(c).publicKey.export({ type: 'spki', format: 'der' })).equals(spki),
  );
  if (!own) throw new KeyError('key-mismatch', 'no certificate in the PKCS#12 file matches its key');
  return assemble(
    own,
    certs.filter((c) => c !== own),
    privateKey,
    options.hash,
  );
}

function assemble(caDer: Uint8Array, pool: Uint8Array[], privateKey: KeyObject, hash?: HashName): ImportedCa {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(caDer);
  } catch (err) {
    throw new KeyError('bad-format', 'the CA certificate could not be parsed', err);
  }
  if (!ca.ca)
    throw new KeyError('bad-format', 'the certificate is not a CA certificate (basicConstraints CA:false)');
  const signer = new KeyObjectSigner(privateKey, hash ? { hash } : {});
  const parents = orderChain(ca, pool);
  return { identity: CaIdentity.create(signer, new Uint8Array(caDer), parents), privateKey };
}

/** From the CA to a self-signed root: at each step the issuer whose key verifies the current certificate. */
function orderChain(start: X509Certificate, pool: Uint8Array[]): Uint8Array[] {
  const candidates = pool.map((der) => ({ der, cert: new X509Certificate(der) }));
  const out: Uint8Array[] = [];
  let current = start;
  for (let depth = 0; depth < 10; depth++) {
    if (current.checkIssued(current) && current.verify(current.publicKey)) return out;
    const cur = current;
    const parent = candidates.find((c) => cur.checkIssued(c.cert) && cur.verify(c.cert.publicKey));
    if (!parent)
      throw new KeyError(
        'bad-format',
        `the chain does not reach a self-signed root (missing issuer of ${cur.subject})`,
      );
    out.push(new Uint8Array(parent.der));
    current = parent.cert;
  }
  throw new KeyError('bad-format', 'the chain is too long');
}

function pemCerts(pem: string): Uint8Array[] {
  return fromPem(pem, 'CERTIFICATE');
}

function pkcs8Key(info: pkijs.PrivateKeyInfo): KeyObject {
  return createPrivateKey({ key: Buffer.from(info.toSchema().toBER()), format: 'der', type: 'pkcs8' });
}

function privateKeySpki(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}
