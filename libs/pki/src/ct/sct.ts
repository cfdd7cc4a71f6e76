// Embedded SCTs (RFC 6962 3.3): the X.509 extension 1.3.6.1.4.1.11129.2.4.2 whose value is an
// OCTET STRING holding a TLS-encoded SignedCertificateTimestampList. Parsed here; sct-verify.ts
// checks the signatures (they cover the precertificate, rebuilt from the certificate).
import { children, content, decodeOid, expectTag, octets, readTlv, TAG, Tlv } from '../discovery/asn1-reader';
import { KnownLog, knownLogs } from './known-logs';
import { CtFormatError, TlsReader } from './tls-reader';

export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';
const HASHES = ['none', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
const SIGNATURES = ['anonymous', 'rsa', 'dsa', 'ecdsa', 'ed25519', 'ed448'];

export interface EmbeddedSct {
  version: number;
  /** Base64 of the 32-byte log id, as log lists print it. */
  logId: string;
  /** The log's name from the known list, or null when unknown. */
  logName: string | null;
  logOperator: string | null;
  timestamp: Date;
  /** e.g. "ecdsa-sha256". */
  signatureAlgorithm: string;
  extensions: Buffer;
  signature: Buffer;
}

/** The SCTs embedded in a certificate (DER); [] when it has none. Throws CtFormatError when malformed. */
export function embeddedScts(certificateDer: Buffer, extraLogs: readonly KnownLog[] = []): EmbeddedSct[] {
  const value = extensionValue(certificateDer, SCT_LIST_OID);
  return value ? parseSctList(value, extraLogs) : [];
}

/** The extnValue contents: an OCTET STRING around the TLS list. */
export function parseSctList(extnValue: Buffer, extraLogs: readonly KnownLog[] = []): EmbeddedSct[] {
  let inner: Buffer;
  try {
    inner = octets(expectTag(readTlv(extnValue), TAG.OCTET_STRING, 'an OCTET STRING around the SCT list'));
  } catch (error) {
    throw new CtFormatError(`SCT list extension: ${(error as Error).message}`);
  }
  const list = new TlsReader(inner, 'SCT list');
  const body = new TlsReader(list.vector(2), 'SCT list');
  list.end();
  const logs = knownLogs(extraLogs);
  const scts: EmbeddedSct[] = [];
  while (body.remaining) scts.push(parseSct(body.vector(2), logs));
  if (!scts.length) throw new CtFormatError('SCT list: empty (RFC 6962 requires at least one)');
  return scts;
}

function parseSct(encoded: Buffer, logs: Map<string, KnownLog>): EmbeddedSct {
  const r = new TlsReader(encoded, 'SCT');
  const version = r.uint(1);
  if (version !== 0) throw new CtFormatError(`SCT: unsupported version ${version}`);
  const logId = r.bytes(32).toString('base64');
  const timestamp = new Date(r.uint(8));
  const extensions = r.vector(2);
  const hash = r.uint(1);
  const signatureType = r.uint(1);
  const signature = r.vector(2);
  r.end();
  const log = logs.get(logId);
  return {
    version,
    logId,
    logName: log?.name ?? null,
    logOperator: log?.operator ?? null,
    timestamp,
    signatureAlgorithm: `${SIGNATURES[signatureType] ?? `signature-${signatureType}`}-${HASHES[hash] ?? `hash-${hash}`}`,
    extensions: Buffer.from(extensions),
    signature: Buffer.from(signature),
  };
}

/** The extnValue contents of extension `oid` in a certificate, or undefined. */
export function extensionValue(certificateDer: Buffer, oid: string): Buffer | undefined {
  const certificate = expectTag(readTlv(certificateDer), TAG.SEQUENCE, 'a Certificate');
  const tbs = expectTag(children(certificate)[0], TAG.SEQUENCE, 'a TBSCertificate');
  return tbsExtensionValue(tbs, oid);
}

/** Same, for a TBSCertificate. */
export function tbsExtensionValue(tbs: Tlv, oid: string): Buffer | undefined {
  const wrapper = children(tbs).find((field) => field.tag === 0xa3);
  if (!wrapper) return undefined;
  for (const extension of children(expectTag(children(wrapper)[0], TAG.SEQUENCE, 'Extensions'))) {
    const parts = children(extension);
    if (decodeOid(expectTag(parts[0], TAG.OID, 'an extension OID')) !== oid) continue;
    return content(expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'an extnValue'));
  }
  return undefined;
}
