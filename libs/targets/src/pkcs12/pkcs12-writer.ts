// Writes a PKCS#12 (RFC 7292) file that OpenSSL 3 reads without the legacy provider: the key in a
// PKCS8ShroudedKeyBag and the certificates in an encrypted SafeContents, both PBES2 (PBKDF2 with
// HMAC-SHA256, AES-256-CBC), and an HMAC-SHA256 integrity MAC keyed with the RFC 7292 appendix B
// KDF (which Node does not expose, so it is written here). All primitives are Node's crypto.
import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { der } from '@certfleet/pki';

const { algorithmIdentifier: algorithm, bmpString, explicit, implicitPrimitive, NULL_VALUE, objectIdentifier: oid, octetString, sequence, setOf, smallInteger: integer } = der;
type Der = Buffer;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const;

export const DEFAULT_PKCS12_ITERATIONS = 10_000;

export interface Pkcs12Contents {
  /** DER of the end-entity certificate. */
  certificateDer: Uint8Array;
  /** DER of the issuing CA certificates, nearest first. */
  chainDer: readonly Uint8Array[];
  /** Unencrypted PKCS#8 PrivateKeyInfo DER. */
  privateKeyPkcs8Der: Uint8Array;
  password: string;
  /** friendlyName on the key and certificate (Java uses it as the keystore alias). */
  alias?: string;
  iterations?: number;
}

/** Encodes key + certificate + chain as a password-protected PKCS#12 file. */
export function buildPkcs12(contents: Pkcs12Contents): Buffer {
  const iterations = contents.iterations ?? DEFAULT_PKCS12_ITERATIONS;
  const { password } = contents;
  // OpenSSL links key and certificate by localKeyId = SHA-1 of the certificate; we do the same.
  const localKeyId = createHash('sha1').update(contents.certificateDer).digest();
  const pairAttributes = [attribute(OID.localKeyId, octetString(localKeyId))];
  if (contents.alias !== undefined) pairAttributes.push(attribute(OID.friendlyName, bmpString(contents.alias)));

  const shrouded = pbes2Encrypt(contents.privateKeyPkcs8Der, password, iterations);
  const keyBag = safeBag(OID.shroudedKeyBag, sequence([shrouded.algorithm, octetString(shrouded.ciphertext)]), pairAttributes);
  const certBags = [
    safeBag(OID.certBag, certBag(contents.certificateDer), pairAttributes),
    ...contents.chainDer.map((chainDer) => safeBag(OID.certBag, certBag(chainDer), [])),
  ];
  const encryptedCerts = pbes2Encrypt(sequence(certBags), password, iterations);

  const authenticatedSafe = sequence([
    dataContentInfo(sequence([keyBag])),
    sequence([
      oid(OID.encryptedData),
      explicit(0, sequence([integer(0), sequence([oid(OID.data), encryptedCerts.algorithm, implicitPrimitive(0, encryptedCerts.ciphertext)])])),
    ]),
  ]);

  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf(password, macSalt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authenticatedSafe).digest();
  return sequence([
    integer(3),
    dataContentInfo(authenticatedSafe),
    sequence([sequence([algorithm(OID.sha256, NULL_VALUE), octetString(mac)]), octetString(macSalt), integer(iterations)]),
  ]);
}

function dataContentInfo(content: Der): Der {
  return sequence([oid(OID.data), explicit(0, octetString(content))]);
}

function safeBag(bagId: string, value: Der, attributes: Der[]): Der {
  const parts = [oid(bagId), explicit(0, value)];
  if (attributes.length > 0) parts.push(setOf(attributes));
  return sequence(parts);
}

function certBag(certificateDer: Uint8Array): Der {
  return sequence([oid(OID.x509Certificate), explicit(0, octetString(certificateDer))]);
}

function attribute(type: string, value: Der): Der {
  return sequence([oid(type), setOf([value])]);
}

/** PBES2 (RFC 8018): PBKDF2-HMAC-SHA256 over the UTF-8 password, AES-256-CBC. */
function pbes2Encrypt(plain: Uint8Array, password: string, iterations: number): { algorithm: Der; ciphertext: Buffer } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  const kdf = algorithm(OID.pbkdf2, sequence([octetString(salt), integer(iterations), algorithm(OID.hmacWithSha256, NULL_VALUE)]));
  return { algorithm: algorithm(OID.pbes2, sequence([kdf, algorithm(OID.aes256Cbc, octetString(iv))])), ciphertext };
}

/**
 * RFC 7292 appendix B.2 key derivation with SHA-256 (u = 32, v = 64); the password is a BMPString
 * with a two-byte terminator, as OpenSSL does. Used only for the MAC key (id 3).
 */
export function pkcs12Kdf(password: string, salt: Uint8Array, id: number, iterations: number, length: number): Buffer {
  const u = 32;
  const v = 64;
  const repeatToBlocks = (bytes: Uint8Array): Buffer => {
    const out = Buffer.alloc(bytes.length === 0 ? 0 : v * Math.ceil(bytes.length / v));
    for (let i = 0; i < out.length; i += 1) out[i] = bytes[i % bytes.length];
    return out;
  };
  const passwordBmp = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
  const diversifier = Buffer.alloc(v, id);
  const input = Buffer.concat([repeatToBlocks(salt), repeatToBlocks(passwordBmp)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let a = createHash('sha256').update(diversifier).update(input).digest();
    for (let round = 1; round < iterations; round += 1) a = createHash('sha256').update(a).digest();
    blocks.push(a);
    const b = repeatToBlocks(a);
    for (let offset = 0; offset < input.length; offset += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k -= 1) {
        const sum = input[offset + k] + b[k] + carry;
        input[offset + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}
