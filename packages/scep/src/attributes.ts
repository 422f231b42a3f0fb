import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { octetStringBytes } from './der.js';
import { ScepError } from './errors.js';
import { OID } from './oids.js';
import { FAIL_INFOS, MESSAGE_TYPES, PKI_STATUSES, nameOf } from './types.js';
import type { FailInfo, MessageType, PkiStatus } from './types.js';

/** Longest transactionID or failInfoText accepted. */
export const MAX_ATTRIBUTE_STRING = 1024;
/** Nonces are 16 bytes in RFC 8894; some clients send other sizes, within reason. */
export const MAX_NONCE_BYTES = 64;

/** The SCEP authenticated attributes of a pkiMessage (RFC 8894 §3.2.1). */
export interface ScepAttributes {
  messageType: MessageType;
  transactionId: string;
  senderNonce: Uint8Array;
  recipientNonce?: Uint8Array;
  pkiStatus?: PkiStatus;
  failInfo?: FailInfo;
  failInfoText?: string;
}

const printable = (s: string) => new asn1js.PrintableString({ value: s });

export function buildScepAttributes(a: ScepAttributes): pkijs.Attribute[] {
  const out = [
    new pkijs.Attribute({ type: OID.transactionID, values: [printable(a.transactionId)] }),
    new pkijs.Attribute({ type: OID.messageType, values: [printable(String(MESSAGE_TYPES[a.messageType]))] }),
  ];
  if (a.pkiStatus) {
    out.push(
      new pkijs.Attribute({ type: OID.pkiStatus, values: [printable(String(PKI_STATUSES[a.pkiStatus]))] }),
    );
  }
  if (a.failInfo) {
    out.push(
      new pkijs.Attribute({ type: OID.failInfo, values: [printable(String(FAIL_INFOS[a.failInfo]))] }),
    );
  }
  if (a.failInfoText) {
    out.push(
      new pkijs.Attribute({
        type: OID.failInfoText,
        values: [new asn1js.Utf8String({ value: a.failInfoText })],
      }),
    );
  }
  out.push(
    new pkijs.Attribute({
      type: OID.senderNonce,
      values: [new asn1js.OctetString({ valueHex: a.senderNonce })],
    }),
  );
  if (a.recipientNonce) {
    out.push(
      new pkijs.Attribute({
        type: OID.recipientNonce,
        values: [new asn1js.OctetString({ valueHex: a.recipientNonce })],
      }),
    );
  }
  return out;
}

function stringValue(v: asn1js.AsnType | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  const value = (v as { valueBlock?: { value?: unknown } }).valueBlock?.value;
  if (typeof value !== 'string') throw new ScepError('badAttribute', `${name} is not a string`);
  if (value.length > MAX_ATTRIBUTE_STRING) throw new ScepError('limitExceeded', `${name} is too long`);
  return value;
}

function nonceValue(v: asn1js.AsnType | undefined, name: string): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof asn1js.OctetString))
    throw new ScepError('badAttribute', `${name} is not an OCTET STRING`);
  const b = octetStringBytes(v);
  if (b.length === 0 || b.length > MAX_NONCE_BYTES)
    throw new ScepError('badAttribute', `${name} has a bad length`);
  return b;
}

function enumValue<T extends Record<string, number>>(
  map: T,
  v: asn1js.AsnType | undefined,
  name: string,
): keyof T | undefined {
  const s = stringValue(v, name);
  if (s === undefined) return undefined;
  const n = /^\d{1,3}$/.test(s.trim()) ? Number(s.trim()) : NaN;
  const k = Number.isNaN(n) ? undefined : nameOf(map, n);
  if (k === undefined) throw new ScepError('badAttribute', `${name} has an unknown value`);
  return k;
}

/** Reads and checks the SCEP attributes; messageType, transactionID and senderNonce are required. */
export function readScepAttributes(attrs: Map<string, asn1js.AsnType>): ScepAttributes {
  const messageType = enumValue(MESSAGE_TYPES, attrs.get(OID.messageType), 'messageType');
  if (!messageType) throw new ScepError('missingAttribute', 'messageType attribute missing');
  const transactionId = stringValue(attrs.get(OID.transactionID), 'transactionID');
  if (!transactionId) throw new ScepError('missingAttribute', 'transactionID attribute missing');
  const senderNonce = nonceValue(attrs.get(OID.senderNonce), 'senderNonce');
  if (!senderNonce) throw new ScepError('missingAttribute', 'senderNonce attribute missing');
  const out: ScepAttributes = { messageType, transactionId, senderNonce };
  const recipientNonce = nonceValue(attrs.get(OID.recipientNonce), 'recipientNonce');
  if (recipientNonce) out.recipientNonce = recipientNonce;
  const pkiStatus = enumValue(PKI_STATUSES, attrs.get(OID.pkiStatus), 'pkiStatus');
  if (pkiStatus) out.pkiStatus = pkiStatus;
  const failInfo = enumValue(FAIL_INFOS, attrs.get(OID.failInfo), 'failInfo');
  if (failInfo) out.failInfo = failInfo;
  const failInfoText = stringValue(attrs.get(OID.failInfoText), 'failInfoText');
  if (failInfoText) out.failInfoText = failInfoText;
  return out;
}
