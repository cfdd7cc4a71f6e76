// RFC 6962 log data: MerkleTreeLeaf (get-entries' leaf_input), signed tree heads (get-sth) and
// their signature, and the names and identity of the certificate a leaf logs.
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { children, expectTag, readTlv, TAG, whole } from '../discovery/asn1-reader';
import { CtFormatError, TlsReader } from './tls-reader';

export interface LoggedCertificate {
  index: number;
  timestamp: Date;
  kind: 'x509' | 'precert';
  /** x509 entries: SHA-256 of the certificate DER; precerts: null (the final certificate differs). */
  fingerprintSha256: string | null;
  /** Lowercase hex as OpenSSL prints it. */
  serial: string;
  /** RFC 4514-ish, as Node's X509Certificate prints it (one line). */
  issuer: string;
  subject: string;
  /** DNS names from subjectAltName, else the subject CN. Lowercase. */
  dnsNames: string[];
  notAfter: Date;
  /** The certificate DER (x509) or the TBSCertificate wrapped as an unsigned certificate (precert). */
  der: Buffer;
}

export interface GetEntriesItem {
  leaf_input: string;
  extra_data: string;
}

/** Parses one get-entries item at log `index`; throws CtFormatError when it is not a certificate leaf. */
export function parseLogEntry(item: GetEntriesItem, index: number): LoggedCertificate {
  const r = new TlsReader(Buffer.from(item.leaf_input, 'base64'), `entry ${index}`);
  const version = r.uint(1);
  const leafType = r.uint(1);
  if (version !== 0 || leafType !== 0) throw new CtFormatError(`entry ${index}: unsupported leaf (version ${version}, type ${leafType})`);
  const timestamp = new Date(r.uint(8));
  const entryType = r.uint(2);
  let certificate: Buffer;
  let kind: LoggedCertificate['kind'];
  if (entryType === 0) {
    certificate = Buffer.from(r.vector(3));
    kind = 'x509';
  } else if (entryType === 1) {
    r.bytes(32); // issuer_key_hash
    certificate = wrapTbs(r.vector(3));
    kind = 'precert';
  } else {
    throw new CtFormatError(`entry ${index}: unknown entry type ${entryType}`);
  }
  r.vector(2); // CtExtensions
  r.end();
  return describeLogged(certificate, kind, index, timestamp);
}

function describeLogged(der: Buffer, kind: LoggedCertificate['kind'], index: number, timestamp: Date): LoggedCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (error) {
    throw new CtFormatError(`entry ${index}: not a certificate (${(error as Error).message})`);
  }
  const sanDns = (x509.subjectAltName ?? '')
    .split(', ')
    .filter((name) => name.startsWith('DNS:'))
    .map((name) => name.slice(4).toLowerCase());
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1];
  return {
    index,
    timestamp,
    kind,
    fingerprintSha256: kind === 'x509' ? createHash('sha256').update(der).digest('hex') : null,
    serial: x509.serialNumber.toLowerCase().replace(/^(00)+(?=[0-9a-f])/, ''),
    issuer: x509.issuer.replace(/\n/g, ', '),
    subject: x509.subject.replace(/\n/g, ', '),
    dnsNames: sanDns.length ? sanDns : cn ? [cn.toLowerCase()] : [],
    notAfter: new Date(x509.validTo),
    der,
  };
}

// A precert leaf carries only the TBSCertificate. Wrapping it with its own signature algorithm and
// an empty signature lets OpenSSL parse it (names, serial, issuer); it is never verified.
function wrapTbs(tbs: Buffer): Buffer {
  const tbsTlv = expectTag(readTlv(tbs), TAG.SEQUENCE, 'a TBSCertificate');
  const fields = children(tbsTlv);
  const algorithm = whole(expectTag(fields[0]?.tag === 0xa0 ? fields[2] : fields[1], TAG.SEQUENCE, 'the TBSCertificate signature algorithm'));
  const body = Buffer.concat([whole(tbsTlv), algorithm, Buffer.from([TAG.BIT_STRING, 1, 0])]);
  return Buffer.concat([Buffer.from([TAG.SEQUENCE]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export interface SignedTreeHead {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
}

/** Checks the shape of a get-sth answer; throws CtFormatError naming what is wrong. */
export function readSignedTreeHead(json: unknown): SignedTreeHead {
  const sth = json as Partial<SignedTreeHead> | null;
  if (!sth || typeof sth !== 'object') throw new CtFormatError('get-sth: not a JSON object');
  if (!Number.isSafeInteger(sth.tree_size) || sth.tree_size! < 0) throw new CtFormatError('get-sth: bad tree_size');
  if (!Number.isSafeInteger(sth.timestamp)) throw new CtFormatError('get-sth: bad timestamp');
  if (typeof sth.sha256_root_hash !== 'string' || Buffer.from(sth.sha256_root_hash, 'base64').length !== 32) throw new CtFormatError('get-sth: bad sha256_root_hash');
  if (typeof sth.tree_head_signature !== 'string') throw new CtFormatError('get-sth: no tree_head_signature');
  return sth as SignedTreeHead;
}

/** The bytes a log signs for a tree head (RFC 6962 3.5, TreeHeadSignature). */
export function treeHeadSignatureInput(sth: Pick<SignedTreeHead, 'tree_size' | 'timestamp' | 'sha256_root_hash'>): Buffer {
  const out = Buffer.alloc(2 + 8 + 8 + 32);
  out[0] = 0; // v1
  out[1] = 1; // tree_hash
  out.writeBigUInt64BE(BigInt(sth.timestamp), 2);
  out.writeBigUInt64BE(BigInt(sth.tree_size), 10);
  Buffer.from(sth.sha256_root_hash, 'base64').copy(out, 18);
  return out;
}

/** Verifies the STH's DigitallySigned signature with the log's key (base64 or DER SPKI); throws when it does not verify. */
export function verifySignedTreeHead(sth: SignedTreeHead, logKey: string | Buffer): void {
  const r = new TlsReader(Buffer.from(sth.tree_head_signature, 'base64'), 'tree_head_signature');
  const hash = r.uint(1);
  const algorithm = r.uint(1);
  const signature = r.vector(2);
  r.end();
  if (hash !== 4 || (algorithm !== 3 && algorithm !== 1)) throw new CtFormatError(`tree_head_signature: unsupported algorithm (hash ${hash}, signature ${algorithm}); only SHA-256 with ECDSA or RSA`);
  const key = createPublicKey({ key: typeof logKey === 'string' ? Buffer.from(logKey, 'base64') : logKey, format: 'der', type: 'spki' });
  if (!verify('sha256', treeHeadSignatureInput(sth), key, signature)) throw new CtFormatError('tree_head_signature does not verify with the configured log key');
}
