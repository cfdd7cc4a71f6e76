// Requests a host makes of a CA: keys generated locally and PKCS#10 CSRs.
export { createKeyAndCsr, createCsr, createKeyAndCsrFor, CSR_KEY_TYPES } from './csr-builder';
export type { NewKeyAndCsr, CsrKeyType, KeyAndCsrRequest } from './csr-builder';
