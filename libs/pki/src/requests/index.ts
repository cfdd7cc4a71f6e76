// Requests a host makes of a CA: keys generated locally and PKCS#10 CSRs.
export { createKeyAndCsr, createCsr } from './csr-builder';
export type { NewKeyAndCsr } from './csr-builder';
