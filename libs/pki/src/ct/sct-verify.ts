// Verifies embedded SCTs (RFC 6962 3.2, 3.3). A log signed the precertificate's TBSCertificate,
// which is the final certificate's TBSCertificate without the SCT list extension: it is rebuilt
// by decoding the certificate with pkijs, dropping that extension and re-encoding the DER (as
// OpenSSL and Go's CT code do), and bound to the issuer by the SHA-256 of the issuer's key.
import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';
import { pkijs } from '../revocation-check/pkijs-runtime';
import { KnownLog, knownLogs } from './known-logs';
import { EmbeddedSct, embeddedScts, SCT_LIST_OID } from './sct';
import { CtFormatError } from './tls-reader';

export type SctStatus = 'valid' | 'invalid' | 'unknown log' | 'issuer unknown';

export interface VerifiedSct extends EmbeddedSct {
  status: SctStatus;
  /** Why it is not valid, one line; absent when valid. */
  reason?: string;
}

/**
 * The SCTs embedded in a certificate (DER), each verified with its log's key (built-in list and
 * `extraLogs`). `issuerSpkiDer`: the issuing CA's DER SubjectPublicKeyInfo, or null when the
 * issuer is not known (then no signature can be checked). Throws when the certificate or its SCT
 * list is malformed.
 */
export function verifyEmbeddedScts(certificateDer: Buffer, issuerSpkiDer: Buffer | null, extraLogs: readonly KnownLog[] = []): VerifiedSct[] {
  const scts = embeddedScts(certificateDer, extraLogs);
  if (!scts.length) return [];
  const logs = knownLogs(extraLogs);
  const tbs = issuerSpkiDer ? precertTbs(certificateDer) : null;
  const issuerKeyHash = issuerSpkiDer ? createHash('sha256').update(issuerSpkiDer).digest() : null;
  return scts.map((sct) => {
    const log = logs.get(sct.logId);
    if (!log) return { ...sct, status: 'unknown log', reason: 'the log is neither built in nor configured' };
    if (!tbs || !issuerKeyHash) return { ...sct, status: 'issuer unknown', reason: "the issuer's key is needed to rebuild what the log signed" };
    const problem = signatureProblem(sct, createPublicKey({ key: Buffer.from(log.key, 'base64'), format: 'der', type: 'spki' }), precertSctSignedData(sct, issuerKeyHash, tbs));
    return problem ? { ...sct, status: 'invalid', reason: problem } : { ...sct, status: 'valid' };
  });
}

function signatureProblem(sct: EmbeddedSct, key: KeyObject, data: Buffer): string | undefined {
  // RFC 6962 2.1.4: logs sign with ECDSA P-256 or RSA, always SHA-256; the SCT says which.
  const expected = key.asymmetricKeyType === 'ec' ? 'ecdsa-sha256' : key.asymmetricKeyType === 'rsa' ? 'rsa-sha256' : undefined;
  if (sct.signatureAlgorithm !== expected) return `signed with ${sct.signatureAlgorithm}, but the log key is ${key.asymmetricKeyType}`;
  let verified = false;
  try {
    verified = verify('sha256', data, key, sct.signature);
  } catch {
    // A signature that is not even well-formed (e.g. not DER for ECDSA) does not verify either.
  }
  return verified ? undefined : "the signature does not verify with the log's key";
}

/** The TBSCertificate of the precertificate behind a certificate's embedded SCTs (DER). */
export function precertTbs(certificateDer: Buffer): Buffer {
  let certificate: InstanceType<typeof pkijs.Certificate>;
  try {
    certificate = pkijs.Certificate.fromBER(certificateDer);
  } catch (error) {
    throw new CtFormatError(`certificate: cannot be decoded to rebuild the precertificate (${(error as Error).message})`);
  }
  const extensions = (certificate.extensions ?? []).filter((extension) => extension.extnID !== SCT_LIST_OID);
  // No extensions left: the [3] field is absent, not an empty SEQUENCE.
  certificate.extensions = extensions.length ? extensions : undefined;
  return Buffer.from(certificate.encodeTBS().toBER());
}

/** RFC 6962 3.2 digitally-signed struct of an SCT over a precert_entry. */
export function precertSctSignedData(sct: Pick<EmbeddedSct, 'timestamp' | 'extensions'>, issuerKeyHash: Buffer, tbs: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head[0] = 0; // sct_version v1
  head[1] = 0; // signature_type certificate_timestamp
  head.writeBigUInt64BE(BigInt(sct.timestamp.getTime()), 2);
  head.writeUInt16BE(1, 10); // entry_type precert_entry
  const tbsLength = Buffer.alloc(3);
  tbsLength.writeUIntBE(tbs.length, 0, 3);
  const extensionsLength = Buffer.alloc(2);
  extensionsLength.writeUInt16BE(sct.extensions.length);
  return Buffer.concat([head, issuerKeyHash, tbsLength, tbs, extensionsLength, sct.extensions]);
}
