// ACME Renewal Information (RFC 9773): the CertID of a certificate and the window in which the
// server suggests renewing it. Pure functions; the controller and the orders service use them.
import * as x509 from '@peculiar/x509';
import { AcmeProblem } from './acme-problem';

/** How long a client should wait before asking again (RFC 9773 section 4.3: Retry-After). */
export const RENEWAL_INFO_RETRY_AFTER_S = 6 * 60 * 60;

export interface CertId {
  /** keyIdentifier of the certificate's AuthorityKeyIdentifier. */
  keyIdentifier: Buffer;
  /** The serial as stored in issued_certificates: lowercase hex, no leading 00 octets. */
  serialHex: string;
}

export interface RenewalWindow {
  start: Date;
  end: Date;
}

/** RFC 9773 section 4.1: base64url(AKI keyIdentifier) "." base64url(serial DER content octets). */
export function parseCertId(raw: string): CertId {
  const parts = raw.split('.');
  if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p)) || raw.includes('=')) throw new AcmeProblem('malformed', 'the CertID must be base64url(keyIdentifier) "." base64url(serial)');
  const keyIdentifier = Buffer.from(parts[0], 'base64url');
  const serial = Buffer.from(parts[1], 'base64url');
  if (keyIdentifier.length === 0 || serial.length === 0 || serial.length > 32) throw new AcmeProblem('malformed', 'the CertID has an empty key identifier or a bad serial');
  // A DER INTEGER: no redundant leading 00, and a serial is positive.
  if ((serial[0] === 0 && (serial.length === 1 || serial[1] < 0x80)) || serial[0] >= 0x80) throw new AcmeProblem('malformed', 'the CertID serial is not the DER encoding of a positive integer');
  return { keyIdentifier, serialHex: serial.toString('hex').replace(/^(00)+(?=.)/, '') };
}

/** The CertID of a certificate (PEM or DER), as a client computes it; null without an AKI keyIdentifier. */
export function certIdOf(certificate: string | Buffer): string | null {
  const cert = new x509.X509Certificate(certificate);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) return null;
  const serial = Buffer.from(cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber, 'hex');
  // DER content octets: a leading 00 when the high bit is set.
  const der = serial[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial;
  return `${Buffer.from(aki.keyId, 'hex').toString('base64url')}.${der.toString('base64url')}`;
}

/**
 * From 2/3 to 3/4 of the lifetime (the renewal point agents use, with room to spread clients); a
 * revoked certificate gets a window that has already passed, so clients renew now (RFC 9773 4.2).
 */
export function suggestedWindow(notBefore: Date, notAfter: Date, revokedAt: Date | null, now = new Date()): RenewalWindow {
  if (revokedAt) return { start: new Date(now.getTime() - 2 * 3600_000), end: new Date(now.getTime() - 3600_000) };
  const life = notAfter.getTime() - notBefore.getTime();
  return { start: new Date(notBefore.getTime() + (life * 2) / 3), end: new Date(notBefore.getTime() + (life * 3) / 4) };
}
