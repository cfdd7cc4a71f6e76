import { Metadata, ServiceError, status as grpcStatus } from '@grpc/grpc-js';
import { createPrivateKey, sign } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnrollmentServiceClient, RecoverIdentityResponse } from '@certfleet/proto';
import { createKeyAndCsr, parseCsr, recoveryProofMessage } from '@certfleet/pki';
import { Logger } from '../log';
import { backoffDelayMs } from '../session/backoff';
import { channelCredentials, targetNameOptions } from '../session/server-trust';
import { AgentIdentity, certificateExpiry } from '../state/identity';
import { StateDir } from '../state/state-dir';
import { IdentityCheckError, storeIssuedIdentity } from './issued-identity';

/** The server said no (its reason is the message): retrying helps only once an operator acts. */
export class IdentityRecoveryRefusedError extends Error {}

export function identityExpired(identity: AgentIdentity, now = new Date()): boolean {
  return certificateExpiry(identity.certificatePem).getTime() <= now.getTime();
}

/**
 * Recovers an identity whose certificate expired (mTLS refuses it, so RenewIdentity cannot be
 * used): a new key and CSR are made here, the request is signed with the expired certificate's
 * key, and sent over server-authenticated TLS like enrollment. The issued certificate is checked
 * and stored as a new generation before it is used. Throws IdentityRecoveryRefusedError with the
 * server's reason when it refuses.
 */
export async function recoverIdentity(identity: AgentIdentity, state: StateDir, timeoutMs = 30_000): Promise<AgentIdentity> {
  const { privateKeyPem, csrPem } = await createKeyAndCsr(hostname());
  const signedAt = new Date();
  // SHA-256; DER ECDSA for EC keys, PKCS#1 v1.5 for RSA keys (Node's defaults).
  const proofSignature = sign('sha256', recoveryProofMessage(identity.agentId, signedAt, parseCsr(csrPem).der), createPrivateKey(identity.privateKeyPem));
  const client = new EnrollmentServiceClient(identity.server, channelCredentials(identity.caCertificatesPem), targetNameOptions(identity.server));
  let response: RecoverIdentityResponse;
  try {
    response = await new Promise<RecoverIdentityResponse>((resolve, reject) =>
      client.recoverIdentity(
        { certificatePem: identity.certificatePem, csrPem, signedAt, proofSignature },
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
  } catch (err) {
    const e = err as ServiceError;
    const refused = e.code === grpcStatus.PERMISSION_DENIED || e.code === grpcStatus.INVALID_ARGUMENT || e.code === grpcStatus.UNAUTHENTICATED;
    if (refused) throw new IdentityRecoveryRefusedError(`identity recovery refused by the server: ${e.details || e.message}`);
    throw new Error(`identity recovery failed: ${e.details || e.message}`);
  } finally {
    client.close();
  }
  return storeIssuedIdentity(identity, state, privateKeyPem, response.certificatePem);
}

export interface RecoveryRetryOptions {
  /** Stops the retries; the function then resolves undefined. */
  signal?: AbortSignal;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
}

/**
 * `recoverIdentity` until it succeeds. A refusal is logged at error level with the server's reason
 * (an operator may raise the grace period, or must re-enroll the host); an unreachable server at
 * warn. Retries with exponential backoff.
 */
export async function recoverIdentityWithRetry(
  identity: AgentIdentity,
  state: StateDir,
  log: Logger,
  { signal, baseDelayMs = 5_000, maxDelayMs = 5 * 60_000, timeoutMs }: RecoveryRetryOptions = {},
): Promise<AgentIdentity | undefined> {
  log('info', `this agent's identity certificate expired on ${certificateExpiry(identity.certificatePem).toISOString()}: asking ${identity.server} to recover it`);
  for (let attempt = 0; !signal?.aborted; attempt++) {
    try {
      const next = await recoverIdentity(identity, state, timeoutMs);
      log('info', `recovered this agent's identity; new certificate valid until ${certificateExpiry(next.certificatePem).toISOString()}`);
      return next;
    } catch (err) {
      const delay = backoffDelayMs(attempt, baseDelayMs, maxDelayMs);
      const fatal = err instanceof IdentityRecoveryRefusedError || err instanceof IdentityCheckError;
      log(fatal ? 'error' : 'warn', `${(err as Error).message}; retrying in ${(delay / 1000).toFixed(1)}s`);
      const waited = await sleep(delay, true, { signal }).catch(() => false);
      if (!waited) return undefined;
    }
  }
  return undefined;
}
