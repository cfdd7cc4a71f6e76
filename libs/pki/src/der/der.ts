// Minimal DER: an encoder that writes each TLV into one allocation (issuance hot path, PKCS#12 and
// JKS writers), and a strict reader for untrusted input (CSRs, keystore entries) and for slicing
// raw fields out of a CA certificate. Discovery has its own lenient reader: files in the field
// use BER (indefinite lengths), which this one refuses on purpose.
//
// Hand-written rather than asn1js: asn1js 4 (the root dependency) is ESM-only, which Jest on
// Node 20 cannot load from CommonJS (see authority/pem.ts), and building the TBSCertificate from
// pre-encoded constant parts is much faster than building an asn1js object tree and serialising
// it: ~40 µs against ~590 µs for the same TBSCertificate, byte for byte, even with nothing
// precomputed (tools/bench/pki-sign/run.sh prints both). Only what X.509 issuance and PKCS#10
// reading need: low tag numbers, definite lengths, lengths below 16 MiB.

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag number `n`: primitive, or constructed (`[n] EXPLICIT`, IMPLICIT SEQUENCE). */
export const contextTag = (n: number, constructed: boolean): number => (constructed ? 0xa0 : 0x80) | n;

// ---------------------------------------------------------------- encoding

function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  if (length < 0x10000) return 4;
  if (length < 0x1000000) return 5;
  throw new RangeError(`DER value of ${length} bytes is too long`);
}

function writeHeader(out: Buffer, tag: number, length: number): number {
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
    return 2;
  }
  if (length < 0x100) {
    out[1] = 0x81;
    out[2] = length;
    return 3;
  }
  if (length < 0x10000) {
    out[1] = 0x82;
    out[2] = length >> 8;
    out[3] = length & 0xff;
    return 4;
  }
  out[1] = 0x83;
  out[2] = length >> 16;
  out[3] = (length >> 8) & 0xff;
  out[4] = length & 0xff;
  return 5;
}

/** One TLV whose content is the concatenation of `parts`. */
export function tlv(tag: number, parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = Buffer.allocUnsafe(headerLength(length) + length);
  let offset = writeHeader(out, tag, length);
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const sequence = (parts: readonly Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, parts);
export const octetString = (content: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, [content]);
export const utf8String = (text: string): Buffer => tlv(TAG.UTF8_STRING, [Buffer.from(text, 'utf8')]);
/** The caller has checked that `text` is ASCII. */
export const ia5String = (text: string, tag: number = TAG.IA5_STRING): Buffer => tlv(tag, [Buffer.from(text, 'latin1')]);

/** SET OF: members sorted by their encodings (X.690 11.6). */
export const setOf = (parts: readonly Uint8Array[]): Buffer => tlv(TAG.SET, [...parts].sort(Buffer.compare));
/** [n] EXPLICIT around one encoded value. */
export const explicit = (n: number, inner: Uint8Array): Buffer => tlv(contextTag(n, true), [inner]);
/** [n] IMPLICIT primitive holding raw bytes (e.g. IMPLICIT OCTET STRING). */
export const implicitPrimitive = (n: number, bytes: Uint8Array): Buffer => tlv(contextTag(n, false), [bytes]);
/** BMPString (UTF-16BE) of BMP-only text. */
export const bmpString = (text: string): Buffer => tlv(0x1e, [Buffer.from(text, 'utf16le').swap16()]);
export const NULL_VALUE: Buffer = Buffer.from([TAG.NULL, 0]);
/** AlgorithmIdentifier: OID and optional parameters. */
export const algorithmIdentifier = (dotted: string, parameters?: Uint8Array): Buffer =>
  sequence(parameters === undefined ? [objectIdentifier(dotted)] : [objectIdentifier(dotted), parameters]);

/** A non-negative INTEGER from a safe JavaScript integer (versions, iteration counts). */
export function smallInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`DER integer out of range: ${value}`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return unsignedInteger(Buffer.from(bytes));
}

/** BIT STRING with no unused bits (signatures, public keys). */
export function bitString(content: Uint8Array): Buffer {
  return tlv(TAG.BIT_STRING, [BIT_STRING_NO_UNUSED, content]);
}
const BIT_STRING_NO_UNUSED = Buffer.from([0]);

/** A non-negative INTEGER from big-endian magnitude bytes (leading zeros stripped, sign byte added). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  return body.length > 0 && body[0] & 0x80 ? tlv(TAG.INTEGER, [ZERO, body]) : tlv(TAG.INTEGER, [body.length ? body : ZERO]);
}
const ZERO = Buffer.from([0]);

/** OBJECT IDENTIFIER from dotted form, e.g. "2.5.29.19". For constants: not on the hot path. */
export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^(0|[1-9]\d*)$/.test(arc)) throw new Error(`bad OID "${dotted}"`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) throw new Error(`bad OID "${dotted}"`);
  const bytes: number[] = [];
  const first = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  for (let arc of first) {
    const group = [Number(arc & 0x7fn)];
    while ((arc >>= 7n) > 0n) group.unshift(Number(arc & 0x7fn) | 0x80);
    bytes.push(...group);
  }
  return tlv(TAG.OID, [Buffer.from(bytes)]);
}

/**
 * RFC 5280 4.1.2.5: UTCTime (YYMMDDHHMMSSZ) for 1950-2049, GeneralizedTime (YYYYMMDDHHMMSSZ)
 * from 2050; seconds precision (milliseconds are dropped).
 */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 1950 && year <= 9999)) throw new RangeError(`year ${year} cannot be encoded in a certificate`);
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return year < 2050
    ? tlv(TAG.UTC_TIME, [Buffer.from(`${two(year % 100)}${rest}`, 'latin1')])
    : tlv(TAG.GENERALIZED_TIME, [Buffer.from(`${year}${rest}`, 'latin1')]);
}

// ---------------------------------------------------------------- reading

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** One TLV inside a buffer: bytes [start, end), content from `contentStart`. */
export interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/**
 * Reads the TLV at `offset`, which must end by `limit`. DER only: definite, minimally encoded
 * lengths; single-byte tags.
 */
export function readTlv(data: Uint8Array, offset: number, limit: number = data.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated');
  const tag = data[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let length = data[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError('indefinite length (BER, not DER)');
    if (count > 3) throw new DerError('length too large');
    if (contentStart + count > limit) throw new DerError('truncated length');
    if (data[contentStart] === 0) throw new DerError('non-minimal length encoding');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + data[contentStart++];
    if (length < 0x80) throw new DerError('non-minimal length encoding');
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('truncated');
  return { tag, start: offset, contentStart, end };
}

/** The single TLV that is all of `data` (no trailing bytes). */
export function readWhole(data: Uint8Array): Tlv {
  const whole = readTlv(data, 0);
  if (whole.end !== data.length) throw new DerError(`${data.length - whole.end} trailing bytes`);
  return whole;
}

/** The TLVs that exactly fill `parent`'s content. */
export function readChildren(data: Uint8Array, parent: Tlv): Tlv[] {
  const children: Tlv[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readTlv(data, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function expectTag(node: Tlv | undefined, tag: number, what: string): Tlv {
  if (!node) throw new DerError(`${what} is missing`);
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  return node;
}

/** The TLV's bytes, header included (a view, not a copy). */
export const rawOf = (data: Buffer, node: Tlv): Buffer => data.subarray(node.start, node.end);
/** The TLV's content (a view, not a copy). */
export const contentOf = (data: Buffer, node: Tlv): Buffer => data.subarray(node.contentStart, node.end);

/** A BIT STRING's bits, which must be whole bytes (keys and signatures). */
export function bitStringBytes(data: Buffer, node: Tlv, what: string): Buffer {
  expectTag(node, TAG.BIT_STRING, what);
  if (node.end - node.contentStart < 1 || data[node.contentStart] !== 0) throw new DerError(`${what}: not a whole number of bytes`);
  return data.subarray(node.contentStart + 1, node.end);
}

/** Dotted form of an OBJECT IDENTIFIER's content, for messages and lookups. */
export function oidToString(content: Uint8Array): string {
  if (content.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: string[] = [];
  let value = 0n;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i];
    if (value === 0n && byte === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (byte & 0x80) {
      if (i === content.length - 1) throw new DerError('truncated OBJECT IDENTIFIER');
      continue;
    }
    if (arcs.length === 0) {
      const first = value < 40n ? 0n : value < 80n ? 1n : 2n;
      arcs.push(String(first), String(value - first * 40n));
    } else {
      arcs.push(String(value));
    }
    value = 0n;
  }
  return arcs.join('.');
}
