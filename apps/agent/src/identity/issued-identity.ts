import { createPrivateKey, X509Certificate } from 'node:crypto';
import { agentIdFromCertificate } from '@certfleet/pki';
import { AgentIdentity, saveIdentity } from '../state/identity';
import { StateDir } from '../state/state-dir';

export class IdentityCheckError extends Error {}

/**
 * Checks a certificate the server returned for this agent before it is stored: issued by the
 * pinned fleet CA, for the key generated here, and (when known) naming this agent.
 */
export function checkIssuedIdentity(certificatePem: string, privateKeyPem: string, caPem: string, agentId?: string): void {
  const issued = new X509Certificate(certificatePem);
  if (!issued.verify(new X509Certificate(caPem).publicKey)) {
    throw new IdentityCheckError('the server returned a certificate that the pinned fleet CA did not issue');
  }
  if (!issued.checkPrivateKey(createPrivateKey(privateKeyPem))) {
    throw new IdentityCheckError('the server returned a certificate for a different key');
  }
  if (agentId !== undefined && agentIdFromCertificate(certificatePem) !== agentId) {
    throw new IdentityCheckError(`the server returned a certificate that does not name agent ${agentId}`);
  }
}

/** Checks a newly issued identity (new key, new certificate) and stores it as the next generation. */
export function storeIssuedIdentity(current: AgentIdentity, state: StateDir, privateKeyPem: string, certificatePem: string): AgentIdentity {
  checkIssuedIdentity(certificatePem, privateKeyPem, current.caCertificatesPem, current.agentId);
  const next: AgentIdentity = { ...current, privateKeyPem, certificatePem };
  saveIdentity(state, next);
  return next;
}
