import { Inject, Injectable } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import { agentIdFromCertificate } from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { JsonObject } from '../../common/json';
import { queryRows } from '../../database/query-rows';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { Agent } from './agent.entity';

/** Why an agent connection was refused. */
export class AgentAuthError extends Error {}

export interface AgentView {
  id: string;
  hostname: string;
  online: boolean;
  enrolledAt: Date;
  lastSeenAt: Date | null;
  lastScanAt: Date | null;
  certificateNotAfter: Date;
  certificates: number;
  problems: number;
  /** Set by administrators (certfleet agents label); ownership rules match on them. */
  labels: Record<string, string>;
  hostFacts: JsonObject;
}

@Injectable()
export class AgentsService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(FleetCaService) private readonly ca: FleetCaService,
  ) {}

  /**
   * Maps a client certificate (already chain-verified by the TLS layer against the fleet CA) to the
   * agent it names. The certificate must be the agent's current one, or the one it renewed from
   * while it has not yet connected with the new one.
   */
  async authenticate(certificateDer: Buffer): Promise<Agent> {
    return (await this.identify(certificateDer)).agent;
  }

  /**
   * Issues the calling agent a new identity certificate. The certificate it presented stays
   * accepted (as "previous") until it connects with the new one, so an answer lost on the way
   * never locks the agent out; any older certificate is refused from now on.
   */
  async renewIdentity(certificateDer: Buffer, csrPem: string): Promise<{ certificatePem: string; notAfter: Date }> {
    const { agent, serial } = await this.identify(certificateDer);
    const issued = await this.ca.issueAgentCertificate(csrPem, agent.id);
    const updated = await this.ds.query(
      `UPDATE agents SET previous_certificate_serial = $2, certificate_serial = $3, certificate_not_after = $4
        WHERE id = $1 AND (certificate_serial = $2 OR previous_certificate_serial = $2) RETURNING id`,
      [agent.id, serial, issued.serial, issued.notAfter],
    );
    if (queryRows(updated).length !== 1) throw new AgentAuthError(`agent ${agent.id} renewed from another connection at the same time; retry`);
    return { certificatePem: issued.certificatePem, notAfter: issued.notAfter };
  }

  private async identify(certificateDer: Buffer): Promise<{ agent: Agent; serial: string }> {
    const cert = new X509Certificate(certificateDer);
    const agentId = agentIdFromCertificate(certificateDer);
    if (!agentId) throw new AgentAuthError('client certificate does not name a certfleet agent');
    const agent = await this.ds.getRepository(Agent).findOne({ where: { id: agentId } });
    if (!agent) throw new AgentAuthError(`agent ${agentId} is not enrolled`);
    if (agent.disabledAt) throw new AgentAuthError(`agent ${agentId} is disabled`);
    const serial = normaliseSerial(cert.serialNumber);
    if (serial === normaliseSerial(agent.certificateSerial)) {
      if (agent.previousCertificateSerial) {
        // The agent holds its new certificate: the one it renewed from is retired.
        await this.ds.getRepository(Agent).update({ id: agentId }, { previousCertificateSerial: null });
      }
      return { agent, serial: agent.certificateSerial };
    }
    if (agent.previousCertificateSerial && serial === normaliseSerial(agent.previousCertificateSerial)) {
      return { agent, serial: agent.previousCertificateSerial };
    }
    throw new AgentAuthError(`client certificate ${cert.serialNumber} is not agent ${agentId}'s current certificate`);
  }

  async recordHello(agentId: string, facts: JsonObject): Promise<void> {
    const hostname = typeof facts.hostname === 'string' && facts.hostname ? facts.hostname.slice(0, 255) : undefined;
    await this.ds
      .getRepository(Agent)
      .update({ id: agentId }, { hostFacts: facts, lastSeenAt: new Date(), ...(hostname ? { hostname } : {}) });
  }

  /** What the agent needs to know to resume its inventory stream (see Welcome). */
  async syncState(agentId: string): Promise<{ appliedSequence: bigint; fullSyncRequired: boolean }> {
    const a = await this.ds.getRepository(Agent).findOneOrFail({ where: { id: agentId } });
    // A full sync in progress continues from the agent's outbox; only a missing one must restart.
    return { appliedSequence: BigInt(a.appliedSequence), fullSyncRequired: a.fullSyncRequired && a.fullSyncSequence === null };
  }

  async recordHeartbeat(agentId: string): Promise<void> {
    await this.ds.getRepository(Agent).update({ id: agentId }, { lastSeenAt: new Date() });
  }

  async list(now = new Date()): Promise<AgentView[]> {
    const rows: Array<Agent & { certificates: string; problems: string }> = await this.ds
      .getRepository(Agent)
      .createQueryBuilder('a')
      .select('a')
      .addSelect("(SELECT count(*) FROM inventory_items i WHERE i.agent_id = a.id AND i.kind = 'certificate')", 'certificates')
      .addSelect("(SELECT count(*) FROM inventory_items i WHERE i.agent_id = a.id AND i.kind = 'problem')", 'problems')
      .orderBy('a.hostname', 'ASC')
      .getRawAndEntities()
      .then(({ raw, entities }) =>
        entities.map((e, i) => Object.assign(e, { certificates: raw[i].certificates, problems: raw[i].problems })),
      );
    const onlineAfter = now.getTime() - this.config.heartbeatIntervalSeconds * 3 * 1000;
    return rows.map((a) => ({
      id: a.id,
      hostname: a.hostname,
      online: !!a.lastSeenAt && a.lastSeenAt.getTime() >= onlineAfter,
      enrolledAt: a.enrolledAt,
      lastSeenAt: a.lastSeenAt,
      lastScanAt: a.lastScanAt,
      certificateNotAfter: a.certificateNotAfter,
      certificates: Number(a.certificates),
      problems: Number(a.problems),
      labels: a.labels ?? {},
      hostFacts: a.hostFacts,
    }));
  }
}

function normaliseSerial(s: string): string {
  return s.toLowerCase().replace(/^(00)+/, '');
}
