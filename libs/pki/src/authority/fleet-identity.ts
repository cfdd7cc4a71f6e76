import { createHash } from 'node:crypto';

// How certfleet names things inside certificates. Agents and the server recognise each other by
// these URI SANs, not by CN or DNS names, so one kind of certificate can never pass as the other.

export const SERVER_ROLE_URI = 'urn:certfleet:role:server';
export const AGENT_URI_PREFIX = 'urn:certfleet:agent:';
export const AGENT_ORGANIZATION = 'certfleet agent';

// Fits a CN (max 64) and a URN without escaping; covers UUIDs and host-style names.
const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidAgentId(agentId: string): boolean {
  return AGENT_ID_PATTERN.test(agentId);
}

export function assertValidAgentId(agentId: string): void {
  if (!isValidAgentId(agentId)) {
    throw new Error(
      `invalid agent id "${String(agentId).slice(0, 80)}": use 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit`,
    );
  }
}

export function agentUri(agentId: string): string {
  return `${AGENT_URI_PREFIX}${agentId}`;
}

/** First line of the signed identity-recovery proof (see RecoverIdentityRequest.proof_signature). */
export const RECOVERY_PROOF_CONTEXT = 'certfleet-identity-recovery-v1';

/** What an agent signs with its expired identity key to recover it: context, agent id, time, SHA-256 of the CSR. */
export function recoveryProofMessage(agentId: string, signedAt: Date, csrDer: Uint8Array): Buffer {
  const csrHash = createHash('sha256').update(csrDer).digest('hex');
  return Buffer.from(`${RECOVERY_PROOF_CONTEXT}\n${agentId}\n${signedAt.toISOString()}\n${csrHash}`, 'utf8');
}
