// RFC 6960 4.1 OCSPRequest, read strictly with der.ts's reader: this is untrusted input on an
// unauthenticated endpoint, so every count and size is bounded before work is done, and every
// failure, whatever its cause, surfaces as an OcspRequestError.
import { contentOf, contextTag, DerError, expectTag, objectIdentifier, rawOf, readChildren, readTlv, readWhole, TAG, Tlv } from '../der/der';

export type OcspHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type OcspResponseStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

export interface OcspCertId {
  hash: OcspHash;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Lowercase hex of the serial's magnitude (sign byte dropped), as leaf-certificate's serialHex. */
  serialHex: string;
  /** The CertID exactly as received (a view into the request), echoed in the response. */
  der: Buffer;
}

export interface ParsedOcspRequest {
  certIds: OcspCertId[];
  /** The nonce extension's extnValue contents as received (normally an OCTET STRING TLV, RFC 8954). */
  nonce?: Buffer;
}

/** The request cannot be answered; `status` is what to answer instead, `message` is safe to log. */
export class OcspRequestError extends Error {
  constructor(
    readonly status: OcspResponseStatus,
    message: string,
  ) {
    super(message);
    this.name = 'OcspRequestError';
  }
}

const oidContent = (dotted: string) => objectIdentifier(dotted).subarray(2);
/** The CertID hash algorithms accepted, with their digest lengths. */
export const OCSP_HASHES: readonly { hash: OcspHash; oid: Buffer; length: number }[] = [
  { hash: 'sha1', oid: oidContent('1.3.14.3.2.26'), length: 20 },
  { hash: 'sha256', oid: oidContent('2.16.840.1.101.3.4.2.1'), length: 32 },
  { hash: 'sha384', oid: oidContent('2.16.840.1.101.3.4.2.2'), length: 48 },
  { hash: 'sha512', oid: oidContent('2.16.840.1.101.3.4.2.3'), length: 64 },
];
const NONCE = oidContent('1.3.6.1.5.5.7.48.1.2');
const DEFAULT_MAX_CERT_IDS = 100;
const MAX_NONCE_BYTES = 128;
// A CertID with SHA-512 is ~170 bytes; the rest leaves room for a signed request's certificates.
const BASE_MAX_REQUEST_BYTES = 64 * 1024;
const MAX_BYTES_PER_CERT_ID = 256;
const MAX_SERIAL_OCTETS = 21; // 20 octets (RFC 5280 4.1.2.2) plus a sign byte some CAs add beyond it

class Malformed extends Error {}

/**
 * Strict parse: at most `maxCertIds` (default 100) requests, a nonce of 1-128 bytes, no trailing
 * bytes, SHA-1/256/384/512 CertIDs only, no unknown critical extension. A signed request is
 * accepted and its signature ignored. Throws only OcspRequestError ('malformedRequest'; a bug
 * would show as 'internalError'); RangeError for bad `limits`, which is the caller's setting.
 */
export function parseOcspRequest(der: Buffer, limits: { maxCertIds?: number } = {}): ParsedOcspRequest {
  const maxCertIds = limits?.maxCertIds ?? DEFAULT_MAX_CERT_IDS;
  if (!Number.isSafeInteger(maxCertIds) || maxCertIds < 1) throw new RangeError(`maxCertIds must be a positive integer, got ${String(maxCertIds)}`);
  try {
    return parse(der, maxCertIds);
  } catch (error) {
    if (error instanceof Malformed || error instanceof DerError) throw new OcspRequestError('malformedRequest', `malformed OCSP request: ${error.message}`);
    throw new OcspRequestError('internalError', `OCSP request could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function parse(input: unknown, maxCertIds: number): ParsedOcspRequest {
  if (!(input instanceof Uint8Array)) throw new Malformed('expected the DER bytes in a Buffer');
  const der = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const maxBytes = BASE_MAX_REQUEST_BYTES + maxCertIds * MAX_BYTES_PER_CERT_ID;
  if (der.length > maxBytes) throw new Malformed(`${der.length} bytes, more than the ${maxBytes} allowed`);

  // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
  const [tbs, signature, ...extra] = readChildren(der, expectTag(readWhole(der), TAG.SEQUENCE, 'OCSPRequest'));
  expectTag(tbs, TAG.SEQUENCE, 'tbsRequest');
  if (signature) exactlyOne(der, expectTag(signature, contextTag(0, true), 'optionalSignature'), TAG.SEQUENCE, 'Signature');
  if (extra.length) throw new Malformed('unexpected data after optionalSignature');

  // TBSRequest ::= SEQUENCE { version [0] DEFAULT v1, requestorName [1] OPTIONAL, requestList, requestExtensions [2] OPTIONAL }
  const fields = readChildren(der, tbs);
  let at = 0;
  if (fields[at]?.tag === contextTag(0, true)) {
    // DEFAULT v1 should be absent, but some clients write it; any other version is not this protocol.
    const version = exactlyOne(der, fields[at++], TAG.INTEGER, 'version');
    if (version.end - version.contentStart !== 1 || der[version.contentStart] !== 0) throw new Malformed('unsupported version (only v1)');
  }
  if (fields[at]?.tag === contextTag(1, true)) exactlyOne(der, fields[at++], undefined, 'requestorName');
  const requestList = expectTag(fields[at++], TAG.SEQUENCE, 'requestList');
  let nonce: Buffer | undefined;
  if (fields[at]?.tag === contextTag(2, true)) {
    for (const ext of readExtensions(der, fields[at++], 'requestExtensions')) {
      if (ext.oid.equals(NONCE)) {
        if (ext.value.length === 0 || ext.value.length > MAX_NONCE_BYTES) throw new Malformed(`nonce of ${ext.value.length} bytes (1-${MAX_NONCE_BYTES} allowed)`);
        nonce = ext.value;
      } else if (ext.critical) {
        throw new Malformed('unsupported critical request extension');
      }
    }
  }
  if (at !== fields.length) throw new Malformed('unexpected field in tbsRequest');

  const certIds: OcspCertId[] = [];
  for (let offset = requestList.contentStart; offset < requestList.end; ) {
    if (certIds.length === maxCertIds) throw new Malformed(`more than ${maxCertIds} CertIDs`);
    const request = readTlv(der, offset, requestList.end);
    offset = request.end;
    certIds.push(readRequest(der, expectTag(request, TAG.SEQUENCE, 'Request')));
  }
  if (certIds.length === 0) throw new Malformed('empty requestList');
  return nonce ? { certIds, nonce } : { certIds };
}

// Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
function readRequest(der: Buffer, request: Tlv): OcspCertId {
  const [certId, extensions, ...extra] = readChildren(der, request);
  if (extra.length) throw new Malformed('unexpected field in Request');
  if (extensions) {
    for (const ext of readExtensions(der, expectTag(extensions, contextTag(0, true), 'singleRequestExtensions'), 'singleRequestExtensions')) {
      if (ext.critical) throw new Malformed('unsupported critical singleRequestExtension');
    }
  }
  // CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING, issuerKeyHash OCTET STRING, serialNumber INTEGER }
  const parts = readChildren(der, expectTag(certId, TAG.SEQUENCE, 'CertID'));
  if (parts.length !== 4) throw new Malformed('CertID must have 4 fields');
  const [algorithm, nameHash, keyHash, serial] = parts;
  const [oid, parameters, ...more] = readChildren(der, expectTag(algorithm, TAG.SEQUENCE, 'hashAlgorithm'));
  const oidBytes = contentOf(der, expectTag(oid, TAG.OID, 'hashAlgorithm OID'));
  // Parameters absent or NULL (RFC 5754 prefers absent; OpenSSL writes NULL).
  if (more.length || (parameters && (parameters.tag !== TAG.NULL || parameters.end !== parameters.contentStart))) throw new Malformed('hashAlgorithm parameters must be absent or NULL');
  const known = OCSP_HASHES.find((h) => h.oid.equals(oidBytes));
  if (!known) throw new Malformed('unsupported CertID hash algorithm (SHA-1, SHA-256, SHA-384 or SHA-512)');
  const issuerNameHash = contentOf(der, expectTag(nameHash, TAG.OCTET_STRING, 'issuerNameHash'));
  const issuerKeyHash = contentOf(der, expectTag(keyHash, TAG.OCTET_STRING, 'issuerKeyHash'));
  if (issuerNameHash.length !== known.length || issuerKeyHash.length !== known.length) throw new Malformed(`CertID hashes must be ${known.length} bytes for ${known.hash}`);
  return { hash: known.hash, issuerNameHash, issuerKeyHash, serialHex: serialHex(contentOf(der, expectTag(serial, TAG.INTEGER, 'serialNumber'))), der: rawOf(der, certId) };
}

function serialHex(content: Buffer): string {
  if (content.length === 0) throw new Malformed('empty serialNumber');
  if (content[0] & 0x80) throw new Malformed('negative serialNumber');
  if (content.length > 1 && content[0] === 0 && !(content[1] & 0x80)) throw new Malformed('non-minimal serialNumber');
  if (content.length > MAX_SERIAL_OCTETS) throw new Malformed('serialNumber longer than 20 octets');
  return (content.length > 1 && content[0] === 0 ? content.subarray(1) : content).toString('hex');
}

/** The single TLV inside an EXPLICIT wrapper, of `tag` when given. */
function exactlyOne(der: Buffer, wrapper: Tlv, tag: number | undefined, what: string): Tlv {
  const children = readChildren(der, wrapper);
  if (children.length !== 1) throw new Malformed(`${what} must be a single value`);
  return tag === undefined ? children[0] : expectTag(children[0], tag, what);
}

// Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
function readExtensions(der: Buffer, wrapper: Tlv, what: string): { oid: Buffer; critical: boolean; value: Buffer }[] {
  const list = exactlyOne(der, wrapper, TAG.SEQUENCE, what);
  const seen = new Set<string>();
  return readChildren(der, list).map((node) => {
    const parts = readChildren(der, expectTag(node, TAG.SEQUENCE, 'Extension'));
    const oid = contentOf(der, expectTag(parts[0], TAG.OID, 'extnID'));
    let critical = false;
    if (parts.length === 3) {
      const flag = contentOf(der, expectTag(parts[1], TAG.BOOLEAN, 'critical'));
      // DER writes only TRUE (FALSE is the default); an explicit FALSE is tolerated.
      if (flag.length !== 1 || (flag[0] !== 0 && flag[0] !== 0xff)) throw new Malformed('bad critical flag');
      critical = flag[0] === 0xff;
    } else if (parts.length !== 2) {
      throw new Malformed('Extension must have 2 or 3 fields');
    }
    const value = contentOf(der, expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue'));
    const key = oid.toString('hex');
    if (seen.has(key)) throw new Malformed('repeated extension');
    seen.add(key);
    return { oid, critical, value };
  });
}
