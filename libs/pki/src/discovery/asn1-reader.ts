// A minimal DER/BER TLV reader. Discovery only needs to walk a few known structures (certificate
// fields, PKCS#7, PKCS#12); a schema-driven parser (asn1js) costs several times more per
// certificate on the scan's hot path and is not needed to find bytes at known positions.

export class Asn1Error extends Error {}

export interface Tlv {
  /** Full identifier octet (class | constructed | number); only low tag numbers are supported. */
  tag: number;
  /** Offset of the identifier octet in `buf`. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the content (for indefinite length: past the end-of-contents octets). */
  end: number;
  /** Offset just past the content octets proper. */
  contentEnd: number;
  buf: Buffer;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the TLV starting at `offset`; throws Asn1Error when it does not fit in `limit`. */
export function readTlv(buf: Buffer, offset = 0, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new Asn1Error('truncated ASN.1 header');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new Asn1Error('high tag numbers are not supported');
  let pos = offset + 1;
  const first = buf[pos++];
  if (first === 0x80) {
    // BER indefinite length (seen in some PKCS#7/PKCS#12 producers): children until 00 00.
    if (!(tag & 0x20)) throw new Asn1Error('indefinite length on a primitive value');
    let cursor = pos;
    while (cursor + 2 <= limit && !(buf[cursor] === 0 && buf[cursor + 1] === 0)) {
      cursor = readTlv(buf, cursor, limit).end;
    }
    if (cursor + 2 > limit) throw new Asn1Error('unterminated indefinite-length value');
    return { tag, start: offset, contentStart: pos, contentEnd: cursor, end: cursor + 2, buf };
  }
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n > 4 || pos + n > limit) throw new Asn1Error('bad ASN.1 length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++];
  }
  const end = pos + length;
  if (end > limit) throw new Asn1Error('ASN.1 value runs past the end of the data');
  return { tag, start: offset, contentStart: pos, contentEnd: end, end, buf };
}

/** The children of a constructed value. */
export function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = tlv.contentStart;
  while (pos < tlv.contentEnd) {
    const child = readTlv(tlv.buf, pos, tlv.contentEnd);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw new Asn1Error(`expected ${what}`);
  return tlv;
}

export const content = (tlv: Tlv): Buffer => tlv.buf.subarray(tlv.contentStart, tlv.contentEnd);
export const whole = (tlv: Tlv): Buffer => tlv.buf.subarray(tlv.start, tlv.end);

/** OCTET STRING content; BER constructed octet strings are concatenated. */
export function octets(tlv: Tlv): Buffer {
  if (!(tlv.tag & 0x20)) return content(tlv);
  return Buffer.concat(children(tlv).map(octets));
}

export function decodeOid(tlv: Tlv): string {
  const bytes = content(tlv);
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

export function decodeSmallInteger(tlv: Tlv): number {
  let value = 0;
  for (const byte of content(tlv)) value = value * 256 + byte;
  return value;
}

/** UTCTime (two-digit years 50-99 are 19xx) or GeneralizedTime, as used in X.509 validity. */
export function decodeTime(tlv: Tlv): Date {
  const text = content(tlv).toString('latin1');
  const m =
    tlv.tag === TAG.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(text);
  if (!m) throw new Asn1Error(`unsupported time value "${text}"`);
  let year = Number(m[1]);
  if (tlv.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
}

/** Text of the ASN.1 string types that appear in names. */
export function decodeString(tlv: Tlv): string {
  const bytes = content(tlv);
  switch (tlv.tag) {
    case TAG.BMP_STRING:
      return Buffer.from(bytes.subarray(0, bytes.length & ~1)).swap16().toString('utf16le');
    case TAG.UNIVERSAL_STRING: {
      let out = '';
      for (let i = 0; i + 4 <= bytes.length; i += 4) out += String.fromCodePoint(bytes.readUInt32BE(i));
      return out;
    }
    case TAG.T61_STRING:
      return bytes.toString('latin1');
    default:
      return bytes.toString('utf8');
  }
}
