// Self-signature and in-file chain building. A certificate's issuer is looked up among the other
// certificates of the same file (name match, key identifiers when both are present) and accepted
// only when its key verifies the signature.
import { constants, verify } from 'node:crypto';
import { ParsedCertificate } from './describe';

// Signature algorithms crypto.verify checks directly on the TBS bytes (no X509Certificate needed).
const DIRECT_VERIFY: Record<string, { hash: string | null; rsa?: boolean }> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', rsa: true },
  '1.2.840.113549.1.1.14': { hash: 'sha224', rsa: true },
  '1.2.840.113549.1.1.11': { hash: 'sha256', rsa: true },
  '1.2.840.113549.1.1.12': { hash: 'sha384', rsa: true },
  '1.2.840.113549.1.1.13': { hash: 'sha512', rsa: true },
  '1.2.840.10045.4.1': { hash: 'sha1' },
  '1.2.840.10045.4.3.1': { hash: 'sha224' },
  '1.2.840.10045.4.3.2': { hash: 'sha256' },
  '1.2.840.10045.4.3.3': { hash: 'sha384' },
  '1.2.840.10045.4.3.4': { hash: 'sha512' },
  '1.3.101.112': { hash: null },
  '1.3.101.113': { hash: null },
};

function checkSignature(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const direct = DIRECT_VERIFY[cert.signatureOid];
  const key = issuer.publicKey;
  if (!key) return false;
  if (!direct) return cert.x509.verify(key); // RSASSA-PSS, DSA, ...: let Node read the parameters
  return verify(direct.hash, cert.tbs, direct.rsa ? { key, padding: constants.RSA_PKCS1_PADDING } : key, cert.signature);
}

export interface ChainFacts {
  selfSigned: boolean;
  chainComplete: boolean;
  /** Certificates on the path from this one up to where it stops, this one included. */
  chainLength: number;
}

// The same CA certificates recur in thousands of bundle files; remembering verification outcomes
// by (certificate, issuer) fingerprint saves an ECDSA/RSA verify per repetition. Bounded, FIFO.
const VERIFY_CACHE_LIMIT = 4096;
const verifyCache = new Map<string, boolean>();

function verifies(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const key = cert.fields.fingerprintSha256 + issuer.fields.fingerprintSha256;
  let ok = verifyCache.get(key);
  if (ok === undefined) {
    try {
      ok = checkSignature(cert, issuer);
    } catch {
      ok = false; // key type Node cannot use
    }
    if (verifyCache.size >= VERIFY_CACHE_LIMIT) verifyCache.delete(verifyCache.keys().next().value as string);
    verifyCache.set(key, ok);
  }
  return ok;
}

function mayHaveIssued(issuer: ParsedCertificate, cert: ParsedCertificate): boolean {
  if (!issuer.subjectDer.equals(cert.issuerDer)) return false;
  const aki = cert.fields.authorityKeyId;
  const ski = issuer.fields.subjectKeyId;
  return !aki || !ski || aki === ski;
}

export function isSelfSigned(cert: ParsedCertificate): boolean {
  return mayHaveIssued(cert, cert) && verifies(cert, cert);
}

/** Chain facts for every certificate of one file, in the same order. */
export function chainFacts(certs: ParsedCertificate[]): ChainFacts[] {
  const selfSigned = certs.map(isSelfSigned);
  const issuerOf = certs.map((cert, i) =>
    selfSigned[i] ? -1 : certs.findIndex((candidate, j) => j !== i && mayHaveIssued(candidate, cert) && verifies(cert, candidate)),
  );
  return certs.map((_, start) => {
    const seen = new Set<number>([start]);
    let current = start;
    while (!selfSigned[current] && issuerOf[current] >= 0 && !seen.has(issuerOf[current])) {
      current = issuerOf[current];
      seen.add(current);
    }
    return { selfSigned: selfSigned[start], chainComplete: selfSigned[current], chainLength: seen.size };
  });
}

/** Empties the signature-verification cache (called through releaseDiscoveryCaches()). */
export function clearVerifyCache(): void {
  verifyCache.clear();
}
