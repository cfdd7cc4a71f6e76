// RFC 5280 5.3.1 CRLReason, shared by CRL entries and OCSP RevokedInfo. Value 7 is unused.
const REASON_NAMES: readonly (string | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

export const REMOVE_FROM_CRL = 8;

/** The RFC 5280 name of a CRLReason code; 'reason-N' for codes the RFC does not define. */
export function reasonName(code: number): string {
  return REASON_NAMES[code] ?? `reason-${code}`;
}
