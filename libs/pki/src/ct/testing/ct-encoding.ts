// Test-only (not exported from index.ts): the log side of RFC 6962, to make what logs send:
// SCT lists and SCTs it really signed, Merkle tree leaves for x509 and precert entries, Merkle
// tree hashes, consistency proofs and signed tree heads, with a real ECDSA P-256 (or RSA) key.
import { createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { children, expectTag, readTlv, TAG, whole } from '../../discovery/asn1-reader';

const u = (bytes: number, value: number | bigint): Buffer => {
  const out = Buffer.alloc(bytes);
  let v = BigInt(value);
  for (let i = bytes - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const vector = (prefix: number, data: Buffer): Buffer => Buffer.concat([u(prefix, data.length), data]);

export class TestCtLogKey {
  readonly privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKeyDer: Buffer;
  /** TLS SignatureAlgorithm: 3 ecdsa, 1 rsa. */
  readonly signatureAlgorithm: number;

  constructor(type: 'ec' | 'rsa' = 'ec') {
    const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKeyDer = pair.publicKey.export({ type: 'spki', format: 'der' });
    this.signatureAlgorithm = type === 'ec' ? 3 : 1;
  }

  get logId(): Buffer {
    return createHash('sha256').update(this.publicKeyDer).digest();
  }

  /** DigitallySigned (SHA-256, this key's algorithm) over `data`. */
  digitallySigned(data: Buffer): Buffer {
    return Buffer.concat([Buffer.from([4, this.signatureAlgorithm]), vector(2, sign('sha256', data, this.privateKey))]);
  }

  /**
   * An embedded SCT this log really signed (RFC 6962 3.2): over the precertificate's TBSCertificate
   * (`precertTbs`, as the log saw it) and the SHA-256 of the issuer's key.
   */
  precertSct(precertTbs: Buffer, issuerSpkiDer: Buffer, timestamp: Date, extensions = Buffer.alloc(0)): Buffer {
    const issuerKeyHash = createHash('sha256').update(issuerSpkiDer).digest();
    const signed = Buffer.concat([Buffer.from([0, 0]), u(8, timestamp.getTime()), u(2, 1), issuerKeyHash, vector(3, precertTbs), vector(2, extensions)]);
    return Buffer.concat([Buffer.from([0]), this.logId, u(8, timestamp.getTime()), vector(2, extensions), this.digitallySigned(signed)]);
  }
}

/** One SCT (v1) as the TLS structure, with any signature bytes (for specs that only parse). */
export function encodeSct(logId: Buffer, timestamp: Date, signature: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0]), logId, u(8, timestamp.getTime()), vector(2, Buffer.alloc(0)), Buffer.from([4, 3]), vector(2, signature)]);
}

/** The extnValue contents for the SCT list extension: OCTET STRING { SignedCertificateTimestampList }. */
export function encodeSctListExtension(scts: Buffer[]): Buffer {
  const list = vector(2, Buffer.concat(scts.map((sct) => vector(2, sct))));
  return Buffer.concat([Buffer.from([TAG.OCTET_STRING]), derLength(list.length), list]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  return n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
}

/** MerkleTreeLeaf for an x509_entry. */
export function x509Leaf(certificateDer: Buffer, timestamp: Date): Buffer {
  return Buffer.concat([Buffer.from([0, 0]), u(8, timestamp.getTime()), u(2, 0), vector(3, certificateDer), vector(2, Buffer.alloc(0))]);
}

/** The TBSCertificate of a certificate, its bytes as they are. */
export function tbsCertificate(certificateDer: Buffer): Buffer {
  return whole(expectTag(children(readTlv(certificateDer))[0], TAG.SEQUENCE, 'TBSCertificate'));
}

/** MerkleTreeLeaf for a precert_entry made from a (final) certificate: its TBSCertificate, issuer key hash. */
export function precertLeaf(certificateDer: Buffer, issuerSpkiDer: Buffer, timestamp: Date): Buffer {
  const tbs = tbsCertificate(certificateDer);
  const issuerKeyHash = createHash('sha256').update(issuerSpkiDer).digest();
  return Buffer.concat([Buffer.from([0, 0]), u(8, timestamp.getTime()), u(2, 1), issuerKeyHash, vector(3, tbs), vector(2, Buffer.alloc(0))]);
}

/** RFC 6962 2.1 Merkle Tree Hash of the leaves. */
export function merkleTreeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return createHash('sha256').update(Buffer.from([0])).update(leaves[0]).digest();
  const k = split(leaves.length);
  return createHash('sha256').update(Buffer.from([1])).update(merkleTreeHash(leaves.slice(0, k))).update(merkleTreeHash(leaves.slice(k))).digest();
}

/** The largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 2.1.2 PROOF(m, D[n]): the consistency proof from the first m leaves to all of them. */
export function consistencyProof(leaves: Buffer[], m: number): Buffer[] {
  if (m <= 0 || m > leaves.length) throw new Error(`consistency proof: bad first size ${m} for ${leaves.length} leaves`);
  return subproof(m, leaves, true);
}

function subproof(m: number, leaves: Buffer[], complete: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [merkleTreeHash(leaves)];
  const k = split(n);
  return m <= k
    ? [...subproof(m, leaves.slice(0, k), complete), merkleTreeHash(leaves.slice(k))]
    : [...subproof(m - k, leaves.slice(k), false), merkleTreeHash(leaves.slice(0, k))];
}

/** A get-sth answer for `leaves`, signed by `key`. */
export function signedTreeHead(leaves: Buffer[], key: TestCtLogKey, timestamp = Date.now()): { tree_size: number; timestamp: number; sha256_root_hash: string; tree_head_signature: string } {
  const root = merkleTreeHash(leaves);
  const input = Buffer.concat([Buffer.from([0, 1]), u(8, timestamp), u(8, leaves.length), root]);
  return { tree_size: leaves.length, timestamp, sha256_root_hash: root.toString('base64'), tree_head_signature: key.digitallySigned(input).toString('base64') };
}
