import { Inject, Injectable, Logger } from '@nestjs/common';
import { constants, createHash, KeyObject, verify, X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import { agentIdFromCertificate, CsrRejectedError, recoveryProofMessage, verifyCsr } from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { Agent } from './agent.entity';
import { AgentAuthError, AgentsService } from './agents.service';

/** How far signed_at may be from the server's clock, either way. */
export const RECOVERY_MAX_CLOCK_SKEW_MS = 5 * 60_000;

const DAY_MS = 86_400_000;
const MAX_CERTIFICATE_PEM_BYTES = 16 * 1024;
// RSA-8192 signatures are 1 KiB; DER ECDSA P-521 about 139 bytes.
const MAX_PROOF_BYTES = 2048;

/**
 * A recovery was refused; the message is meant for the operator reading the agent's log.
 * `malformed` requests could never succeed as sent (gRPC INVALID_ARGUMENT), the rest are
 * PERMISSION_DENIED.
 */
export class IdentityRecoveryRefusedError extends Error {
  constructor(
    message: string,
    readonly malformed = false,
    /** The agent the presented certificate names, when it could be read. */
    readonly agentId?: string,
  ) {
    super(message);
    this.name = 'IdentityRecoveryRefusedError';
  }
}

export interface IdentityRecoveryRequest {
  certificatePem: string;
  csrPem: string;
  signedAt: Date | undefined;
  proofSignature: Uint8Array;
}

export interface RecoveredIdentity {
  agentId: string;
  certificatePem: string;
  notAfter: Date;
}

/**
 * EnrollmentService.RecoverIdentity: an agent whose identity certificate expired while it was
 * offline (so mTLS refuses it) proves possession of that certificate's key and gets a new
 * identity, if the certificate is its current one and expired less than the grace period ago.
 * The new certificate is issued through AgentsService.renewIdentity, which keeps the
 * current/previous serial bookkeeping; a refusal changes nothing in the database.
 */
@Injectable()
export class IdentityRecoveryService {
  private readonly logger = new Logger('IdentityRecovery');
  /** Proof signatures already accepted (hash -> signed_at ms): a captured request cannot be replayed. */
  private readonly usedProofs = new Map<string, number>();

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FleetCaService) private readonly ca: FleetCaService,
    @Inject(AgentsService) private readonly agents: AgentsService,
  ) {}

  async recover(request: IdentityRecoveryRequest, now = new Date()): Promise<RecoveredIdentity> {
    try {
      const recovered = await this.tryRecover(request, now);
      this.logger.log(`agent ${recovered.agentId} recovered its expired identity; new certificate valid until ${recovered.notAfter.toISOString()}`);
      return recovered;
    } catch (err) {
      if (err instanceof IdentityRecoveryRefusedError) {
        this.logger.warn(`identity recovery refused for agent ${err.agentId ?? '(unidentified)'}: ${err.message}`);
      }
      throw err;
    }
  }

  private async tryRecover(request: IdentityRecoveryRequest, now: Date): Promise<RecoveredIdentity> {
    const { certificatePem, csrPem, signedAt, proofSignature } = request;
    if (!certificatePem) throw new IdentityRecoveryRefusedError('the expired identity certificate (certificate_pem) is required', true);
    if (!csrPem) throw new IdentityRecoveryRefusedError('a CSR for the new key (csr_pem) is required', true);
    if (Buffer.byteLength(certificatePem) > MAX_CERTIFICATE_PEM_BYTES) {
      throw new IdentityRecoveryRefusedError(`certificate_pem is too large (limit ${MAX_CERTIFICATE_PEM_BYTES} bytes)`, true);
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(certificatePem);
    } catch {
      throw new IdentityRecoveryRefusedError('certificate_pem is not a PEM certificate', true);
    }
    // Everything below reads this one DER certificate, whatever else the PEM text held.
    const der = certificate.raw;
    const agentId = agentIdFromCertificate(der);
    const refuse = (message: string, malformed = false) => new IdentityRecoveryRefusedError(message, malformed, agentId);

    if (!signedAt || Number.isNaN(signedAt.getTime())) throw refuse('signed_at is required', true);
    if (!proofSignature?.length) throw refuse('proof_signature is required', true);
    if (proofSignature.length > MAX_PROOF_BYTES) throw refuse(`proof_signature is too large (limit ${MAX_PROOF_BYTES} bytes)`, true);

    const graceDays = this.config.identityGraceDays;
    if (graceDays === 0) {
      throw refuse('identity recovery is disabled on this server (CERTFLEET_IDENTITY_GRACE_DAYS=0): re-enroll this agent with a new token');
    }
    if (!certificate.verify(new X509Certificate(this.ca.caCertificatePem).publicKey)) {
      throw refuse("the certificate was not issued by this server's fleet CA");
    }
    if (!agentId) throw refuse('the certificate is not a certfleet agent identity certificate');

    const skewMs = signedAt.getTime() - now.getTime();
    if (Math.abs(skewMs) > RECOVERY_MAX_CLOCK_SKEW_MS) {
      throw refuse(
        `the request was signed at ${signedAt.toISOString()}, ${formatDuration(Math.abs(skewMs))} ${skewMs < 0 ? 'behind' : 'ahead of'} ` +
          `the server's clock (limit ${RECOVERY_MAX_CLOCK_SKEW_MS / 60_000} minutes): an old request replayed, or the agent host's clock is wrong`,
      );
    }
    let csrDer: Buffer;
    try {
      csrDer = (await verifyCsr(csrPem)).der;
    } catch (err) {
      if (err instanceof CsrRejectedError) throw refuse(`CSR refused: ${err.reason}`, true);
      throw err;
    }
    this.checkProof(certificate.publicKey, recoveryProofMessage(agentId, signedAt, csrDer), proofSignature, refuse);
    this.rememberProof(proofSignature, now, refuse);

    // The caller holds the certificate's key: from here on it may learn about its agent.
    const agent = await this.ds.getRepository(Agent).findOne({ where: { id: agentId } });
    if (!agent) throw refuse(`agent ${agentId} is not enrolled (it was deleted, or this server has another database): re-enroll this host with a new token`);
    if (agent.disabledAt) throw refuse(`agent ${agentId} was disabled by an operator on ${agent.disabledAt.toISOString()}: a disabled agent cannot recover its identity`);
    const serial = normaliseSerial(certificate.serialNumber);
    const accepted = [agent.certificateSerial, agent.previousCertificateSerial].filter((s): s is string => !!s).map(normaliseSerial);
    if (!accepted.includes(serial)) {
      throw refuse(
        `certificate ${certificate.serialNumber} is not agent ${agentId}'s current identity certificate (it was replaced by a renewal or recovery): ` +
          're-enroll this host with a new token if it lost its current identity',
      );
    }

    const notAfter = new Date(certificate.validTo);
    if (now < notAfter) {
      throw refuse(`the identity certificate is still valid (until ${notAfter.toISOString()}): renew it over mTLS with RenewIdentity instead`);
    }
    const expiredMs = now.getTime() - notAfter.getTime();
    if (expiredMs >= graceDays * DAY_MS) {
      throw refuse(
        `identity certificate expired ${formatDuration(expiredMs, graceDays * DAY_MS)} ago, beyond the ${graceDays}-day grace period: ` +
          're-enroll this agent with a new token',
      );
    }

    try {
      const issued = await this.agents.renewIdentity(der, csrPem);
      return { agentId, ...issued };
    } catch (err) {
      if (err instanceof AgentAuthError) throw refuse(err.message);
      if (err instanceof CsrRejectedError) throw refuse(`CSR refused: ${err.reason}`, true);
      throw err;
    }
  }

  /** SHA-256 with the certificate's key: DER ECDSA, or RSA PKCS#1 v1.5. */
  private checkProof(
    key: KeyObject,
    message: Buffer,
    signature: Uint8Array,
    refuse: (message: string) => IdentityRecoveryRefusedError,
  ): void {
    const type = key.asymmetricKeyType;
    if (type !== 'ec' && type !== 'rsa') {
      throw refuse(`the certificate's ${type ?? 'unknown'} key cannot sign a recovery proof (ECDSA or RSA only): re-enroll this agent with a new token`);
    }
    let valid = false;
    try {
      valid = verify('sha256', message, type === 'rsa' ? { key, padding: constants.RSA_PKCS1_PADDING } : key, signature);
    } catch {
      valid = false; // malformed signature bytes
    }
    if (!valid) {
      throw refuse("the proof signature does not verify with the certificate's key: the request was not signed by the holder of this certificate, or not over this CSR and time");
    }
  }

  /** Each proof is good once: a second use within its validity window is a replay. */
  private rememberProof(signature: Uint8Array, now: Date, refuse: (message: string) => IdentityRecoveryRefusedError): void {
    const horizon = now.getTime() - 2 * RECOVERY_MAX_CLOCK_SKEW_MS;
    for (const [k, at] of this.usedProofs) if (at < horizon) this.usedProofs.delete(k);
    const key = createHash('sha256').update(signature).digest('hex');
    if (this.usedProofs.has(key)) throw refuse('this signed request was already used once (a replay): the agent must sign a new one');
    this.usedProofs.set(key, now.getTime());
  }
}

/** Same normalisation as AgentsService: lowercase hex without leading zero bytes. */
function normaliseSerial(s: string): string {
  return s.toLowerCase().replace(/^(00)+/, '');
}

/** "41 days", "47 hours", "6 minutes"; with one decimal where a whole number would read as `avoid`. */
function formatDuration(ms: number, avoid?: number): string {
  const [unit, size]: [string, number] = ms >= 2 * DAY_MS ? ['day', DAY_MS] : ms >= 2 * 3_600_000 ? ['hour', 3_600_000] : ['minute', 60_000];
  const whole = Math.floor(ms / size);
  const n = avoid !== undefined && whole * size === avoid && ms > avoid ? (ms / size).toFixed(1) : String(whole);
  return `${n} ${unit}${n === '1' ? '' : 's'}`;
}
