// Fields sliced out of a certificate's DER with der.ts's strict reader: what OCSP key hashes,
// responder IDs and the CRL-signing check need, without another certificate parser.
import { bitStringBytes, contentOf, contextTag, expectTag, oidToString, rawOf, readChildren, readWhole, TAG } from '../der/der';

export interface CertificateParts {
  issuerDer: Buffer;
  subjectDer: Buffer;
  /** The subjectPublicKey BIT STRING's bytes: what OCSP key hashes and byKey responder IDs hash. */
  publicKeyBits: Buffer;
  /** extnValue contents by dotted OID. */
  extensions: Map<string, { critical: boolean; value: Buffer }>;
}

/** Throws DerError when the certificate is not DER as RFC 5280 lays it out. */
export function readCertificateParts(der: Buffer): CertificateParts {
  const [tbs] = readChildren(der, expectTag(readWhole(der), TAG.SEQUENCE, 'Certificate'));
  const fields = readChildren(der, expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  const at = fields[0]?.tag === contextTag(0, true) ? 1 : 0; // version [0] is absent in v1 certificates
  const issuer = expectTag(fields[at + 2], TAG.SEQUENCE, 'issuer');
  const subject = expectTag(fields[at + 4], TAG.SEQUENCE, 'subject');
  const spki = expectTag(fields[at + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const [, bits] = readChildren(der, spki);
  const extensions = new Map<string, { critical: boolean; value: Buffer }>();
  const wrapper = fields.slice(at + 6).find((field) => field.tag === contextTag(3, true));
  if (wrapper) {
    const [list] = readChildren(der, wrapper);
    for (const node of readChildren(der, expectTag(list, TAG.SEQUENCE, 'extensions'))) {
      const parts = readChildren(der, expectTag(node, TAG.SEQUENCE, 'extension'));
      const oid = oidToString(contentOf(der, expectTag(parts[0], TAG.OID, 'extnID')));
      const critical = parts.length === 3 && parts[1].tag === TAG.BOOLEAN && der[parts[1].contentStart] !== 0;
      const value = contentOf(der, expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue'));
      extensions.set(oid, { critical, value });
    }
  }
  return {
    issuerDer: rawOf(der, issuer),
    subjectDer: rawOf(der, subject),
    publicKeyBits: bitStringBytes(der, bits, 'subjectPublicKey'),
    extensions,
  };
}

const KEY_USAGE = '2.5.29.15';

/** Whether keyUsage allows bit `bit` (0 = digitalSignature ... 6 = cRLSign); true without keyUsage (RFC 5280 4.2.1.3). */
export function keyUsageAllows(parts: CertificateParts, bit: number): boolean {
  const keyUsage = parts.extensions.get(KEY_USAGE);
  if (!keyUsage) return true;
  // The extnValue is the BIT STRING TLV: tag, length, unused-bit count, then bit 0 as the top bit.
  const { value } = keyUsage;
  const index = 3 + (bit >> 3);
  return value[0] === TAG.BIT_STRING && index < value.length && (value[index] & (0x80 >> (bit & 7))) !== 0;
}
