// The digest inside a signature algorithm name as discovery reports it (OpenSSL-style names such as
// sha1WithRSAEncryption, ecdsa-with-SHA1, dsa-with-SHA256, Ed25519). '' when it cannot be told.
const PATTERNS: [RegExp, string][] = [
  [/md2/i, 'MD2'],
  [/md5/i, 'MD5'],
  [/sha-?1(?!\d)/i, 'SHA-1'],
  [/sha-?224/i, 'SHA-224'],
  [/sha-?256/i, 'SHA-256'],
  [/sha-?384/i, 'SHA-384'],
  [/sha-?512/i, 'SHA-512'],
  [/^ed(25519|448)$/i, 'none'],
];

// Fleets use a handful of algorithm names: remember each answer (bounded).
const known = new Map<string, string>();

export function signatureHashOf(algorithm: string): string {
  let hash = known.get(algorithm);
  if (hash === undefined) {
    hash = PATTERNS.find(([pattern]) => pattern.test(algorithm))?.[1] ?? '';
    if (known.size < 1000) known.set(algorithm, hash);
  }
  return hash;
}
