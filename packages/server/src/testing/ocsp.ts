import { createHash } from 'node:crypto';
import { oid, seq, tlv } from './der.js';

/** One DER element: tag byte, content, and the whole encoding. */
export interface Tlv {
  tag: number;
  content: Buffer;
  whole: Buffer;
}

/** Reads the DER elements laid end to end in `buf` (definite lengths only: enough for our own responses). */
export function children(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let i = 0;
  while (i < buf.length) {
    const tag = buf[i]!;
    let len = buf[i + 1]!;
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i + 2 + k]!;
      hdr += n;
    }
    out.push({ tag, content: buf.subarray(i + hdr, i + hdr + len), whole: buf.subarray(i, i + hdr + len) });
    i += hdr + len;
  }
  return out;
}

function only(buf: Buffer): Tlv {
  const [t] = children(buf);
  if (!t) throw new Error('empty DER');
  return t;
}

/** Subject Name DER and public key bits of a certificate. */
function issuerParts(cert: Uint8Array): { subject: Buffer; keyBits: Buffer } {
  const tbs = children(only(Buffer.from(cert)).content)[0]!;
  const fields = children(tbs.content);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version
  const subject = fields[offset + 4]!.whole;
  const spkiTlv = fields[offset + 5]!;
  const bitString = children(spkiTlv.content)[1]!;
  return { subject, keyBits: bitString.content.subarray(1) };
}

/** RFC 6960 OCSPRequest for one serial (SHA-1 CertID), no nonce. */
export function ocspRequest(issuerCert: Uint8Array, serial: Uint8Array): Buffer {
  const { subject, keyBits } = issuerParts(issuerCert);
  const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();
  const certId = seq(
    seq(oid('1.3.14.3.2.26'), tlv(0x05)),
    tlv(0x04, sha1(subject)),
    tlv(0x04, sha1(keyBits)),
    tlv(0x02, serial[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : Buffer.from(serial)),
  );
  return seq(seq(seq(seq(certId))));
}

/** responseStatus and the first SingleResponse's certStatus of a DER OCSPResponse. */
export function ocspStatus(der: Uint8Array): {
  responseStatus: number;
  certStatus?: 'good' | 'revoked' | 'unknown';
} {
  const [status, bytes] = children(only(Buffer.from(der)).content);
  const responseStatus = status!.content[0]!;
  if (!bytes) return { responseStatus };
  const responseBytes = only(bytes.content); // [0] EXPLICIT ResponseBytes
  const basic = only(children(responseBytes.content)[1]!.content); // OCTET STRING -> BasicOCSPResponse
  const tbs = children(basic.content)[0]!;
  const fields = children(tbs.content);
  const responses = fields.find((f, i) => f.tag === 0x30 && i > 0 && fields[i - 1]!.tag === 0x18)!;
  const single = children(responses.content)[0]!;
  const certStatusTag = children(single.content)[1]!.tag;
  const certStatus = certStatusTag === 0x80 ? 'good' : certStatusTag === 0xa1 ? 'revoked' : 'unknown';
  return { responseStatus, certStatus };
}

/** The serial (content bytes) of a DER certificate. */
export function certSerial(cert: Uint8Array): Buffer {
  const tbs = children(only(Buffer.from(cert)).content)[0]!;
  const fields = children(tbs.content);
  return fields[fields[0]!.tag === 0xa0 ? 1 : 0]!.content;
}
