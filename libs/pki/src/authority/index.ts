// Fleet CA: creates the CA, issues the control server's TLS certificate and agents' mTLS client
// certificates from verified CSRs, reads fleet identities back, and protects CA keys at rest.
export { createFleetCa } from './fleet-ca';
export type { FleetCaMaterial, CreateFleetCaOptions } from './fleet-ca';
export { issueServerCertificate, isServerCertificate } from './server-certificate';
export type { IssueServerCertificateOptions } from './server-certificate';
export { issueAgentCertificate, agentIdFromCertificate, MAX_AGENT_VALIDITY_HOURS } from './agent-certificate';
export type { IssueAgentCertificateOptions, IssuedAgentCertificate } from './agent-certificate';
export { parseCsr, verifyCsr, MAX_CSR_BYTES } from './csr';
export type { ParsedCsr, CsrKeyAlgorithm, CsrCurve } from './csr';
export { sha256Fingerprint, formatFingerprint, normaliseFingerprint } from './fingerprint';
export { encryptPrivateKey, decryptPrivateKey, keyMaterialId } from './key-encryption';
export { loadOrCreateKeyFile, readKeyFile } from './key-file';
export { writeFileAtomic, fsyncDirectory } from './atomic-file';
export type { FileOwner } from './atomic-file';
export { SERVER_ROLE_URI, AGENT_URI_PREFIX, AGENT_ORGANIZATION, isValidAgentId, RECOVERY_PROOF_CONTEXT, recoveryProofMessage } from './fleet-identity';
export { CsrRejectedError, KeyDecryptionError, KeyFileError, CaMaterialError } from './errors';
export type { PemOrDer } from './pem';
// @peculiar/x509, prepared for Node and loaded on first use, for libraries that build on pki.
export { x509 } from './x509-runtime';
