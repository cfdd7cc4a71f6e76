// Encoding pieces the CRL, OCSP and responder-certificate builders share.
import { contextTag, octetString, sequence, TAG, tlv, unsignedInteger } from '../der/der';

const CRITICAL = Buffer.from([TAG.BOOLEAN, 1, 0xff]);

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE (omitted when false, as DER wants), extnValue }. */
export const extension = (oid: Buffer, critical: boolean, value: Buffer): Buffer =>
  sequence(critical ? [oid, CRITICAL, octetString(value)] : [oid, octetString(value)]);

/** CertificateSerialNumber from hex (any case): positive, at most 20 octets encoded (RFC 5280 4.1.2.2). */
export function serialNumberFromHex(serialHex: string): Buffer {
  if (typeof serialHex !== 'string' || !/^[0-9a-fA-F]{1,64}$/.test(serialHex)) throw new RangeError('serialHex must be 1-64 hex digits (no colons)');
  let hex = serialHex.replace(/^0+/, '');
  if (hex === '') throw new RangeError('the serial number must be positive');
  if (hex.length % 2) hex = `0${hex}`;
  const der = unsignedInteger(Buffer.from(hex, 'hex'));
  if (der.length - 2 > 20) throw new RangeError('the serial number is longer than 20 octets');
  return der;
}

/** A non-negative INTEGER of at most 20 octets (CRLNumber, BaseCRLNumber: RFC 5280 5.2.3). */
export function crlNumberInteger(value: bigint, what: string): Buffer {
  if (typeof value !== 'bigint' || value < 0n) throw new RangeError(`${what} must be a non-negative bigint`);
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const der = unsignedInteger(Buffer.from(hex, 'hex'));
  if (der.length - 2 > 20) throw new RangeError(`${what} is longer than 20 octets`);
  return der;
}

/** GeneralName uniformResourceIdentifier [6] for an http(s) URL in plain ASCII. */
export function uriGeneralName(url: string, what: string): Buffer {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError(`the ${what} URL "${String(url).slice(0, 200)}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RangeError(`the ${what} URL "${url.slice(0, 200)}" must be http:// or https://`);
  if (!/^[\x21-\x7e]+$/.test(url)) throw new RangeError(`the ${what} URL "${url.slice(0, 200)}" must be plain ASCII without spaces`);
  return tlv(contextTag(6, false), [Buffer.from(url, 'latin1')]);
}

/**
 * A DER header for `length` content bytes. Unlike der.ts (which stops at 16 MiB, plenty for
 * certificates), a CRL with a few hundred thousand entries can pass that, so 4 length bytes.
 */
export function derHeader(tag: number, length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffffffff) throw new RangeError(`DER value of ${length} bytes is too long`);
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}
