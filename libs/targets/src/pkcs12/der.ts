// Minimal DER encoder: just the types a PKCS#12 file needs (SEQUENCE, SET, INTEGER, OID, OCTET
// STRING, NULL, BMPString, context tags). Lengths are definite; SET OF members are sorted as DER
// requires. Kept here so the agent bundle does not carry a full ASN.1 library for one writer.

export type Der = Buffer;

export function tlv(tag: number, content: Uint8Array): Der {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const sequence = (...items: Der[]): Der => tlv(0x30, Buffer.concat(items));

/** SET OF: members sorted by their encodings (X.690 11.6). */
export const setOf = (...items: Der[]): Der => tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));

export const octetString = (bytes: Uint8Array): Der => tlv(0x04, bytes);

export const nullValue = (): Der => Buffer.from([0x05, 0x00]);

/** [n] EXPLICIT: a constructed context tag around one encoded value. */
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 | n, inner);

/** [n] IMPLICIT OCTET STRING: a primitive context tag holding raw bytes. */
export const implicitOctets = (n: number, bytes: Uint8Array): Der => tlv(0x80 | n, bytes);

/** BMPString (UTF-16BE); certfleet writes only ASCII friendly names, so no surrogate handling is needed. */
export const bmpString = (text: string): Der => tlv(0x1e, Buffer.from(text, 'utf16le').swap16());

export function integer(value: number): Der {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`DER integer out of range: ${value}`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  if (bytes.length === 0 || bytes[0] & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map((arc) => Number(arc));
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)) throw new Error(`bad OID ${dotted}`);
  const body: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const chunk = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift(0x80 | (rest & 0x7f));
    body.push(...chunk);
  }
  return tlv(0x06, Buffer.from(body));
}

/** AlgorithmIdentifier with optional parameters. */
export const algorithm = (dotted: string, parameters?: Der): Der =>
  parameters === undefined ? sequence(oid(dotted)) : sequence(oid(dotted), parameters);
