// RFC 5280 5.3.1 CRLReason: shared by CRL entries (reasonCode extension) and OCSP RevokedInfo.
import { tlv } from '../der/der';

export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'caCompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

const CODES: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  caCompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  // 7 is unassigned
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** The CRLReason names in code order (7 is unassigned, so from removeFromCRL on index !== code). */
export const REVOCATION_REASONS: readonly RevocationReason[] = Object.freeze(
  (Object.keys(CODES) as RevocationReason[]).sort((a, b) => CODES[a] - CODES[b]),
);

export function isRevocationReason(value: unknown): value is RevocationReason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CODES, value);
}

export function revocationReasonCode(reason: RevocationReason): number {
  if (!isRevocationReason(reason)) throw new RangeError(`unknown revocation reason "${String(reason).slice(0, 40)}"`);
  return CODES[reason];
}

const ENUMERATED = 0x0a;

/** CRLReason ::= ENUMERATED, encoded once per reason. */
export const REASON_ENUMERATED: Readonly<Record<RevocationReason, Buffer>> = Object.fromEntries(
  REVOCATION_REASONS.map((reason) => [reason, tlv(ENUMERATED, [Buffer.from([CODES[reason]])])]),
) as Record<RevocationReason, Buffer>;
