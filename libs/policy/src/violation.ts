// A violation is a refusal reason: a stable machine code plus a message that names the offending
// value. Checks return lists of these and never throw.

export type ViolationCode =
  // the profile against the policy
  | 'validity-invalid'
  | 'validity-too-long'
  | 'key-type-not-allowed'
  | 'name-invalid'
  | 'name-not-allowed'
  | 'name-denied'
  | 'wildcard-forbidden'
  | 'common-name-not-in-sans'
  | 'no-names'
  | 'usage-missing'
  // the CSR against the profile and the policy
  | 'csr-unreadable'
  | 'csr-signature-invalid'
  | 'csr-rejected'
  | 'key-type-mismatch'
  | 'rsa-too-small'
  | 'curve-not-allowed'
  | 'weak-signature'
  | 'san-missing'
  | 'san-unexpected'
  | 'ca-requested';

export interface Violation {
  code: ViolationCode;
  message: string;
}

export function violation(code: ViolationCode, message: string): Violation {
  return { code, message };
}
