import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID, X509Certificate } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { CsrRejectedError, verifyCsr } from '@certfleet/pki';
import { toJsonObject } from '../../common/json';
import { newSecret, sha256Hex } from '../../common/secrets';
import { queryRows } from '../../database/query-rows';
import { Agent } from '../agents/agent.entity';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { EnrollmentToken } from './enrollment-token.entity';

export const MAX_TOKEN_TTL_SECONDS = 30 * 86_400;

/** Why an enrollment was refused; the message is shown to the operator as is. */
export class EnrollmentRefusedError extends Error {}

export interface HostFactsInput {
  hostname: string;
  [fact: string]: unknown;
}

export interface EnrollmentResult {
  agentId: string;
  certificatePem: string;
  caCertificatesPem: string;
  notAfter: Date;
}

@Injectable()
export class EnrollmentService {
  private readonly logger = new Logger('Enrollment');

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FleetCaService) private readonly ca: FleetCaService,
  ) {}

  async createToken(ttlSeconds: number, description = ''): Promise<{ token: string; id: string; expiresAt: Date }> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
      throw new RangeError(`ttl must be between 60 seconds and ${MAX_TOKEN_TTL_SECONDS / 86_400} days`);
    }
    const token = newSecret('cfe_');
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const row = await this.ds
      .getRepository(EnrollmentToken)
      .save({ tokenSha256: sha256Hex(token), description, expiresAt, usedAt: null, usedByAgentId: null });
    return { token, id: row.id, expiresAt };
  }

  /**
   * Trades a one-time token and a CSR for the agent's client certificate. The CSR is checked before
   * the token is spent, and token, agent and certificate are committed together or not at all.
   */
  async enroll(token: string, csrPem: string, facts: HostFactsInput): Promise<EnrollmentResult> {
    try {
      await verifyCsr(csrPem);
    } catch (err) {
      if (err instanceof CsrRejectedError) throw new EnrollmentRefusedError(`CSR refused: ${err.message}`);
      throw err;
    }
    const agentId = randomUUID();
    const result = await this.ds.transaction(async (m) => {
      await this.spendToken(m, token, agentId);
      const issued = await this.ca.issueAgentCertificate(csrPem, agentId);
      await m.getRepository(Agent).insert({
        id: agentId,
        hostname: String(facts.hostname || 'unknown').slice(0, 255),
        hostFacts: toJsonObject(facts),
        enrolledAt: new Date(),
        certificateSerial: issued.serial,
        certificateNotAfter: issued.notAfter,
      });
      return issued;
    });
    this.logger.log(`enrolled agent ${agentId} (${facts.hostname})`);
    return {
      agentId,
      certificatePem: result.certificatePem,
      caCertificatesPem: this.ca.caCertificatePem,
      notAfter: new Date(new X509Certificate(result.certificatePem).validTo),
    };
  }

  /** Marks the token used in one statement, so two racing enrollments cannot both spend it. */
  private async spendToken(m: EntityManager, token: string, agentId: string): Promise<void> {
    const hash = sha256Hex(token.trim());
    const spent = await m.query(
      `UPDATE enrollment_tokens SET used_at = now(), used_by_agent_id = $2
        WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now() RETURNING id`,
      [hash, agentId],
    );
    if (queryRows(spent).length === 1) return;
    const known = await m.getRepository(EnrollmentToken).findOne({ where: { tokenSha256: hash } });
    if (!known) throw new EnrollmentRefusedError('enrollment token is unknown (check for typos, or create one with `certfleet token create`)');
    if (known.usedAt) throw new EnrollmentRefusedError(`enrollment token was already used at ${known.usedAt.toISOString()}; tokens are single-use`);
    throw new EnrollmentRefusedError(`enrollment token expired at ${known.expiresAt.toISOString()}`);
  }
}
