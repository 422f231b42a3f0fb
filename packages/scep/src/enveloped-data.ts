import { constants, publicEncrypt } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CONTENT_CIPHERS, cipherByOid, decryptContent, encryptContent } from './content-cipher.js';
import { digestByOid, digestOid } from './digests.js';
import { asBuffer, fromSchema, octetStringBytes, parseDer } from './der.js';
import type { DerLimits } from './der.js';
import { ScepError } from './errors.js';
import { issuerAndSerial, matchesIdentifier, parseCertificate } from './certificate.js';
import type { ParsedCertificate } from './certificate.js';
import type { ScepDecrypter } from './keys.js';
import { OID } from './oids.js';
import { syntheticKey, unpadPkcs1Type2 } from './rsa-pkcs1.js';
import type { ContentCipher, DigestName, KeyTransport } from './types.js';

export interface EnvelopeOptions {
  cipher: ContentCipher;
  keyTransport?: KeyTransport;
  /** Hash for RSAES-OAEP and its MGF1 (default sha1, what Windows uses). */
  oaepHash?: DigestName;
}

/**
 * Builds a CMS EnvelopedData (RFC 5652 §6) ContentInfo with one KeyTransRecipientInfo per recipient certificate.
 * The encrypted content is a single primitive OCTET STRING (some clients do not join BER chunks).
 */
export function buildEnvelopedData(
  content: Uint8Array,
  recipients: ReadonlyArray<Uint8Array | ParsedCertificate>,
  opts: EnvelopeOptions,
): Uint8Array {
  if (recipients.length === 0)
    throw new ScepError('badArgument', 'EnvelopedData needs at least one recipient');
  const enc = encryptContent(opts.cipher, content);
  const transport = opts.keyTransport ?? 'rsa-pkcs1';
  const oaepHash = opts.oaepHash ?? 'sha1';
  const recipientInfos = recipients.map((r) => {
    const pc = r instanceof Uint8Array ? parseCertificate(r) : r;
    if (pc.publicKey.asymmetricKeyType !== 'rsa') {
      throw new ScepError('unsupportedAlgorithm', 'key transport needs an RSA recipient certificate');
    }
    const encryptedKey =
      transport === 'rsa-oaep'
        ? publicEncrypt({ key: pc.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, enc.key)
        : publicEncrypt({ key: pc.publicKey, padding: constants.RSA_PKCS1_PADDING }, enc.key);
    const keyEncryptionAlgorithm =
      transport === 'rsa-oaep'
        ? new pkijs.AlgorithmIdentifier({
            algorithmId: OID.rsaesOaep,
            algorithmParams: oaepParams(oaepHash),
          })
        : new pkijs.AlgorithmIdentifier({
            algorithmId: OID.rsaEncryption,
            algorithmParams: new asn1js.Null(),
          });
    return new pkijs.RecipientInfo({
      variant: 1,
      value: new pkijs.KeyTransRecipientInfo({
        version: 0,
        rid: issuerAndSerial(pc),
        keyEncryptionAlgorithm,
        encryptedKey: new asn1js.OctetString({ valueHex: encryptedKey }),
      }),
    });
  });
  const env = new pkijs.EnvelopedData({
    version: 0,
    recipientInfos,
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: CONTENT_CIPHERS[opts.cipher].oid,
        algorithmParams: new asn1js.OctetString({ valueHex: enc.iv }),
      }),
      encryptedContent: new asn1js.OctetString({ valueHex: enc.ciphertext }),
      disableSplit: true,
    }),
  });
  const ci = new pkijs.ContentInfo({ contentType: OID.envelopedData, content: env.toSchema() });
  return new Uint8Array(ci.toSchema().toBER());
}

function oaepParams(hash: DigestName): asn1js.AsnType {
  const hashAlg = new pkijs.AlgorithmIdentifier({
    algorithmId: digestOid(hash),
    algorithmParams: new asn1js.Null(),
  });
  return new pkijs.RSAESOAEPParams({
    hashAlgorithm: hashAlg,
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID.mgf1,
      algorithmParams: hashAlg.toSchema(),
    }),
  }).toSchema();
}

export interface OpenedEnvelope {
  content: Buffer;
  cipher: ContentCipher;
  keyTransport: KeyTransport;
  /** The decrypter whose certificate the message was encrypted to. */
  recipient: ScepDecrypter;
}

/**
 * Decrypts a CMS EnvelopedData ContentInfo with whichever decrypter a KeyTransRecipientInfo names.
 * A wrong key and a wrong PKCS#1 padding fail the same way (see rsa-pkcs1.ts).
 */
export function openEnvelopedData(
  der: Uint8Array,
  decrypters: readonly ScepDecrypter[],
  limits?: DerLimits,
): OpenedEnvelope {
  const asn = parseDer(der, 'EnvelopedData', limits);
  const ci = fromSchema('ContentInfo', () => new pkijs.ContentInfo({ schema: asn }));
  if (ci.contentType !== OID.envelopedData) {
    throw new ScepError('wrongContentType', `expected EnvelopedData, got ${ci.contentType}`);
  }
  const env = fromSchema('EnvelopedData', () => new pkijs.EnvelopedData({ schema: ci.content }));
  const eci = env.encryptedContentInfo;
  const cipher = cipherByOid(eci.contentEncryptionAlgorithm.algorithmId);
  const ivParam = eci.contentEncryptionAlgorithm.algorithmParams;
  if (!(ivParam instanceof asn1js.OctetString)) throw new ScepError('malformed', 'content cipher IV missing');
  const iv = octetStringBytes(ivParam);
  if (!eci.encryptedContent) throw new ScepError('malformed', 'EnvelopedData has no encrypted content');
  const ciphertext = octetStringBytes(eci.encryptedContent);

  const parsedDecrypters = decrypters.map((d) => ({ d, pc: parseCertificate(d.certificate) }));
  for (const ri of env.recipientInfos) {
    if (ri.variant !== 1 || !(ri.value instanceof pkijs.KeyTransRecipientInfo)) continue;
    const ktri = ri.value;
    const match = parsedDecrypters.find((x) => matchesIdentifier(x.pc, ktri.rid));
    if (!match) continue;
    const encryptedKey = new Uint8Array(ktri.encryptedKey.valueBlock.valueHexView);
    const keyLength = CONTENT_CIPHERS[cipher].keyLength;
    const alg = ktri.keyEncryptionAlgorithm;
    let key: Buffer;
    let keyTransport: KeyTransport;
    if (alg.algorithmId === OID.rsaEncryption) {
      keyTransport = 'rsa-pkcs1';
      key = decryptPkcs1(match.d, encryptedKey, keyLength);
    } else if (alg.algorithmId === OID.rsaesOaep) {
      keyTransport = 'rsa-oaep';
      const params = alg.algorithmParams
        ? fromSchema('RSAES-OAEP params', () => new pkijs.RSAESOAEPParams({ schema: alg.algorithmParams }))
        : new pkijs.RSAESOAEPParams();
      const hash = digestByOid(params.hashAlgorithm.algorithmId);
      checkOaepParams(params, hash, alg.algorithmParams);
      try {
        key = asBuffer(match.d.decryptOaep(encryptedKey, hash));
      } catch (e) {
        throw new ScepError('decryptFailed', 'content decryption failed', { cause: e });
      }
    } else {
      throw new ScepError('unsupportedAlgorithm', `key transport ${alg.algorithmId} is not supported`);
    }
    const content = decryptContent(cipher, key, iv, ciphertext);
    return { content, cipher, keyTransport, recipient: match.d };
  }
  throw new ScepError('noRecipient', 'the message is not encrypted to any of our certificates');
}

/**
 * Node.js decrypts RSAES-OAEP with one hash for OAEP and MGF1 and no label (RFC 8017 §A.2.1 defaults): refuse any
 * other parameters as an unsupported algorithm rather than let them fail as a decryption error.
 */
function checkOaepParams(params: pkijs.RSAESOAEPParams, hash: DigestName, raw: unknown): void {
  const mgf = params.maskGenAlgorithm;
  if (mgf.algorithmId !== OID.mgf1) {
    throw new ScepError(
      'unsupportedAlgorithm',
      `RSAES-OAEP mask generation ${mgf.algorithmId} is not supported`,
    );
  }
  const mgfHash =
    mgf.algorithmParams instanceof pkijs.AlgorithmIdentifier
      ? mgf.algorithmParams
      : fromSchema('MGF1 params', () => new pkijs.AlgorithmIdentifier({ schema: mgf.algorithmParams }));
  if (digestByOid(mgfHash.algorithmId) !== hash) {
    throw new ScepError(
      'unsupportedAlgorithm',
      'RSAES-OAEP with an MGF1 hash other than its OAEP hash is not supported',
    );
  }
  // Only an explicit pSourceAlgorithm [2] counts: pkijs's default for an absent one is not an empty label.
  const explicitPSource =
    raw instanceof asn1js.Sequence &&
    raw.valueBlock.value.some((el) => el.idBlock.tagClass === 3 && el.idBlock.tagNumber === 2);
  const label: unknown = params.pSourceAlgorithm.algorithmParams;
  if (explicitPSource && label instanceof asn1js.OctetString && label.valueBlock.valueHexView.length > 0) {
    throw new ScepError('unsupportedAlgorithm', 'RSAES-OAEP with a label is not supported');
  }
}

function decryptPkcs1(d: ScepDecrypter, encryptedKey: Uint8Array, keyLength: number): Buffer {
  const substitute = syntheticKey(d.rejectionSecret, encryptedKey, keyLength);
  let em: Uint8Array;
  try {
    em = d.decryptRaw(encryptedKey);
  } catch (e) {
    // Wrong ciphertext length or a value >= the modulus: public facts about the ciphertext, not the key.
    throw new ScepError('decryptFailed', 'content decryption failed', { cause: e });
  }
  return unpadPkcs1Type2(em, keyLength, substitute);
}
