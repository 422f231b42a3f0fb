import { constants, publicEncrypt } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CONTENT_CIPHERS, cipherByOid, decryptContent, encryptContent } from './content-cipher.js';
import { digestByOid, digestOid } from './digests.js';
import {
  algorithmId,
  children,
  cmsIdentifier,
  contentInfo,
  implicitOctets,
  isContext,
  octets,
  oidOf,
} from './asn-read.js';
import { asBuffer, fromSchema, octetStringBytes, oidElement, parseDer } from './der.js';
import type { DerLimits } from './der.js';
import { ScepError } from './errors.js';
import { issuerAndSerialSchema, matchesIdentifier, parseCertificate } from './certificate.js';
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
    const keyEncryptionAlgorithm = new asn1js.Sequence({
      value:
        transport === 'rsa-oaep'
          ? [oidElement(OID.rsaesOaep), oaepParams(oaepHash)]
          : [oidElement(OID.rsaEncryption), new asn1js.Null()],
    });
    // KeyTransRecipientInfo ::= SEQUENCE { version 0, rid IssuerAndSerialNumber, keyEncryptionAlgorithm,
    //   encryptedKey }
    return new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 0 }),
        issuerAndSerialSchema(pc),
        keyEncryptionAlgorithm,
        new asn1js.OctetString({ valueHex: encryptedKey }),
      ],
    });
  });
  // EnvelopedData ::= SEQUENCE { version 0, recipientInfos SET, encryptedContentInfo SEQUENCE { id-data,
  //   contentEncryptionAlgorithm (with the IV), encryptedContent [0] IMPLICIT OCTET STRING } }
  const env = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      new asn1js.Set({ value: recipientInfos }),
      new asn1js.Sequence({
        value: [
          oidElement(OID.data),
          new asn1js.Sequence({
            value: [
              oidElement(CONTENT_CIPHERS[opts.cipher].oid),
              new asn1js.OctetString({ valueHex: enc.iv }),
            ],
          }),
          new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: enc.ciphertext }),
        ],
      }),
    ],
  });
  const ci = new asn1js.Sequence({
    value: [
      oidElement(OID.envelopedData),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [env] }),
    ],
  });
  return new Uint8Array(ci.toBER());
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
export async function openEnvelopedData(
  der: Uint8Array,
  decrypters: readonly ScepDecrypter[],
  limits?: DerLimits,
): Promise<OpenedEnvelope> {
  const root = parseDer(der, 'EnvelopedData', limits);
  const ci = contentInfo(root, 'EnvelopedData');
  if (ci.contentType !== OID.envelopedData) {
    throw new ScepError('wrongContentType', `expected EnvelopedData, got ${ci.contentType}`);
  }
  // EnvelopedData ::= SEQUENCE { version, originatorInfo [0] IMPLICIT OPTIONAL, recipientInfos SET,
  //   encryptedContentInfo, unprotectedAttrs [1] IMPLICIT OPTIONAL }
  const parts = children(ci.content, 'EnvelopedData');
  if (!(parts[0] instanceof asn1js.Integer))
    throw new ScepError('malformed', 'EnvelopedData: version missing');
  const i = isContext(parts[1], 0, true) ? 2 : 1;
  const recipientInfos = children(parts[i], 'EnvelopedData recipientInfos', true);
  const rest = parts.slice(i + 2);
  if (rest.length > 1 || (rest.length === 1 && !isContext(rest[0], 1, true))) {
    throw new ScepError('malformed', 'EnvelopedData: unexpected element');
  }
  // EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
  //   encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
  const eci = children(parts[i + 1], 'EnvelopedData encryptedContentInfo');
  oidOf(eci[0], 'EnvelopedData content type');
  const contentAlg = algorithmId(eci[1], 'EnvelopedData contentEncryptionAlgorithm');
  const cipher = cipherByOid(contentAlg.oid);
  if (!(contentAlg.params instanceof asn1js.OctetString)) {
    throw new ScepError('malformed', 'content cipher IV missing');
  }
  const iv = octetStringBytes(contentAlg.params);
  const encrypted = eci[2];
  if (encrypted === undefined || !isContext(encrypted, 0) || eci.length > 3) {
    throw new ScepError('malformed', 'EnvelopedData has no encrypted content');
  }
  const ciphertext = implicitOctets(encrypted, 'EnvelopedData encryptedContent');

  const parsedDecrypters = decrypters.map((d) => ({ d, pc: parseCertificate(d.certificate) }));
  for (const ri of recipientInfos) {
    // KeyTransRecipientInfo ::= SEQUENCE { version, rid, keyEncryptionAlgorithm, encryptedKey OCTET STRING };
    // the other RecipientInfo choices are [1]..[4] and skipped.
    if (!(ri instanceof asn1js.Sequence)) continue;
    const ktri = children(ri, 'KeyTransRecipientInfo');
    if (ktri.length !== 4 || !(ktri[0] instanceof asn1js.Integer)) {
      throw new ScepError('malformed', 'KeyTransRecipientInfo: not a KeyTransRecipientInfo');
    }
    const rid = cmsIdentifier(ktri[1], 'KeyTransRecipientInfo rid');
    const match = parsedDecrypters.find((x) => matchesIdentifier(x.pc, rid));
    if (!match) continue;
    const alg = algorithmId(ktri[2], 'KeyTransRecipientInfo keyEncryptionAlgorithm');
    const encryptedKey = octets(ktri[3], 'KeyTransRecipientInfo encryptedKey');
    const keyLength = CONTENT_CIPHERS[cipher].keyLength;
    let key: Buffer;
    let keyTransport: KeyTransport;
    if (alg.oid === OID.rsaEncryption) {
      keyTransport = 'rsa-pkcs1';
      key = await decryptPkcs1(match.d, encryptedKey, keyLength);
    } else if (alg.oid === OID.rsaesOaep) {
      keyTransport = 'rsa-oaep';
      const params = alg.params
        ? fromSchema('RSAES-OAEP params', () => new pkijs.RSAESOAEPParams({ schema: alg.params }))
        : new pkijs.RSAESOAEPParams();
      const hash = digestByOid(params.hashAlgorithm.algorithmId);
      checkOaepParams(params, hash, alg.params);
      try {
        key = asBuffer(await match.d.decryptOaep(encryptedKey, hash));
      } catch (e) {
        throw new ScepError('decryptFailed', 'content decryption failed', { cause: e });
      }
    } else {
      throw new ScepError('unsupportedAlgorithm', `key transport ${alg.oid} is not supported`);
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

async function decryptPkcs1(d: ScepDecrypter, encryptedKey: Uint8Array, keyLength: number): Promise<Buffer> {
  const substitute = syntheticKey(d.rejectionSecret, encryptedKey, keyLength);
  let em: Uint8Array;
  try {
    em = await d.decryptRaw(encryptedKey);
  } catch (e) {
    // Wrong ciphertext length or a value >= the modulus: public facts about the ciphertext, not the key.
    throw new ScepError('decryptFailed', 'content decryption failed', { cause: e });
  }
  return unpadPkcs1Type2(em, keyLength, substitute);
}
