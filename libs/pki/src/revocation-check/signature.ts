// Verifies a signature over raw to-be-signed bytes (an OCSP tbsResponseData, a CRL tbsCertList)
// with Node's crypto. pkijs's own verify paths are not used for CRLs because pkijs cannot parse
// large CRLs at all (see crl-parse.ts), and one implementation for both keeps the two answers
// consistent. Node verifies DER ECDSA signatures as X.509 stores them, and RSA, RSA-PSS, Ed25519
// and Ed448 keys straight from the certificate's KeyObject.
import { constants, KeyObject, verify } from 'node:crypto';
import { pkijs, Pkijs } from './pkijs-runtime';

const HASH_BY_OID: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithm OID → digest for Node (null: the algorithm hashes itself, EdDSA). */
const SIGNATURE_HASH: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';

/**
 * True when `signature` over `data` verifies with `key` under `algorithm`. False for a wrong
 * key, a mismatched key type, or bad bytes; throws only for an algorithm it does not know.
 */
export function verifySignature(data: Uint8Array, algorithm: Pkijs.AlgorithmIdentifier, signature: Uint8Array, key: KeyObject): boolean {
  const oid = algorithm.algorithmId;
  if (oid === RSASSA_PSS) {
    const params = new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams });
    const hash = HASH_BY_OID[params.hashAlgorithm.algorithmId];
    if (!hash) throw new Error(`unsupported RSASSA-PSS hash ${params.hashAlgorithm.algorithmId}`);
    return attempt(() => verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, signature));
  }
  if (!(oid in SIGNATURE_HASH)) throw new Error(`unsupported signature algorithm ${oid}`);
  return attempt(() => verify(SIGNATURE_HASH[oid], data, key, signature));
}

/** AlgorithmIdentifier from its DER (e.g. sliced out of a CRL by crl-parse.ts). */
export function algorithmFromDer(der: Uint8Array): Pkijs.AlgorithmIdentifier {
  return pkijs.AlgorithmIdentifier.fromBER(der);
}

function attempt(run: () => boolean): boolean {
  try {
    return run();
  } catch {
    // e.g. an RSA key given an ECDSA signature, or a signature that is not valid DER.
    return false;
  }
}
