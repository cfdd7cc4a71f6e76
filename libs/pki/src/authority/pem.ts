// Strict PEM/DER input handling: exactly one block of the expected type, no trailing bytes, so a
// crafted input cannot smuggle a second object past a check that looked only at the first.
import { x509, X509 } from './x509-runtime';

export type PemOrDer = string | Uint8Array;

/** Encodes DER as PEM with 64-column lines. */
export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  return `${x509.PemConverter.encode(new Uint8Array(der), label)}\n`;
}

/**
 * Returns the DER bytes of `input`: a PEM string/bytes with exactly one block whose label is one
 * of `labels`, or raw DER bytes. Throws an Error with a plain reason otherwise.
 */
export function decodeSinglePemOrDer(input: PemOrDer, labels: readonly string[]): Buffer {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text === undefined) return assertSingleDerObject(Buffer.from(input as Uint8Array));
  if (!text.includes('-----BEGIN ')) throw new Error('not PEM: no "-----BEGIN" line');
  let blocks: X509.PemStruct[];
  try {
    blocks = x509.PemConverter.decodeWithHeaders(text);
  } catch {
    throw new Error('not PEM: body is not valid base64');
  }
  if (blocks.length !== 1) throw new Error(`expected exactly one PEM block, found ${blocks.length}`);
  const [block] = blocks;
  if (!labels.includes(block.type)) {
    throw new Error(`expected PEM type ${labels.join(' or ')}, found ${block.type}`);
  }
  return assertSingleDerObject(Buffer.from(block.rawData));
}

function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN ');
}

// Checks only the outer TLV (a SEQUENCE whose definite length covers the whole input): the
// library parses the inside but silently ignores trailing bytes. Root asn1js 4 is ESM-only and
// Jest on Node 20 cannot load it, hence this small hand check.
function assertSingleDerObject(der: Buffer): Buffer {
  if (der.length === 0) throw new Error('empty input');
  if (der.length < 2 || der[0] !== 0x30) throw new Error('not DER: does not start with an ASN.1 SEQUENCE');
  const first = der[1];
  let headerLength = 2;
  let contentLength = first;
  if (first & 0x80) {
    const lengthBytes = first & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4) throw new Error('not DER: indefinite or oversized length');
    if (der.length < 2 + lengthBytes) throw new Error('not DER: truncated length');
    contentLength = der.readUIntBE(2, lengthBytes);
    headerLength += lengthBytes;
  }
  const total = headerLength + contentLength;
  if (total > der.length) throw new Error(`not DER: truncated (${der.length} of ${total} bytes)`);
  if (total < der.length) throw new Error(`trailing ${der.length - total} bytes after the DER object`);
  return der;
}
