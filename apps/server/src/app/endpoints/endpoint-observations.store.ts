// Where probe results go and how they come back, with each served certificate linked to the
// inventory files that hold it on the same host.
import { DataSource } from 'typeorm';
import type { EndpointProbe } from '@certfleet/pki';
import { queryRows } from '../../database/query-rows';
import { EndpointObservation } from './endpoint-observation.entity';

export interface ProbeSource {
  targetId: string | null;
  /** The agent that probed; null for the server. */
  agentId: string | null;
  probedBy: string;
  process?: string | null;
}

export interface LinkedFile {
  agentId: string;
  hostname: string;
  path: string;
}

export type ObservationView = EndpointObservation & { linkedFiles: LinkedFile[] };

export function observationKey(prober: string | null, host: string, port: number, serverName: string): string {
  return `${prober ?? 'server'}|${host}|${port}|${serverName}`;
}

export function toObservation(probe: EndpointProbe, source: ProbeSource, probedAt: Date): EndpointObservation {
  const serverName = probe.serverName ?? '';
  return {
    observationKey: observationKey(source.agentId, probe.host, probe.port, serverName),
    targetId: source.targetId,
    agentId: source.agentId,
    host: probe.host,
    port: probe.port,
    serverName,
    tls: probe.tls,
    error: probe.error,
    protocol: probe.protocol,
    cipher: probe.cipher,
    chain: probe.chain.map((c) => ({ fingerprintSha256: c.fingerprintSha256, subject: c.subject, issuer: c.issuer, notAfter: c.notAfter.toISOString() })),
    leafFingerprintSha256: probe.leafFingerprintSha256,
    hostnameMatch: probe.hostnameMatch,
    hostnameError: probe.hostnameError,
    chainValid: probe.chainValid,
    chainError: probe.chainError,
    ocspStatus: probe.ocsp?.status ?? null,
    notAfter: probe.notAfter,
    acceptedVersions: probe.acceptedVersions ?? null,
    process: source.process ?? null,
    probedAt,
    probedBy: source.probedBy,
  };
}

export class EndpointObservationsStore {
  constructor(private readonly ds: DataSource) {}

  async save(rows: EndpointObservation[]): Promise<void> {
    if (rows.length) await this.ds.getRepository(EndpointObservation).upsert(rows, ['observationKey']);
  }

  /** An agent's listener report replaces what it reported before (listeners that closed disappear). */
  async replaceAgentListeners(agentId: string, rows: EndpointObservation[]): Promise<void> {
    await this.ds.transaction(async (manager) => {
      await manager.query(`DELETE FROM endpoint_observations WHERE agent_id = $1 AND target_id IS NULL`, [agentId]);
      if (rows.length) await manager.getRepository(EndpointObservation).insert(rows);
    });
  }

  async list(filter: { agentId?: string; targetId?: string } = {}): Promise<ObservationView[]> {
    const where = { ...(filter.agentId ? { agentId: filter.agentId } : {}), ...(filter.targetId ? { targetId: filter.targetId } : {}) };
    const rows = await this.ds.getRepository(EndpointObservation).find({ where, order: { host: 'ASC', port: 'ASC', serverName: 'ASC', probedBy: 'ASC' } });
    return this.withLinks(rows);
  }

  // Same host: the agent the target names as its host, else the agent that probed (its own listener).
  private async withLinks(rows: EndpointObservation[]): Promise<ObservationView[]> {
    const keys = rows.map((r) => r.observationKey);
    if (!keys.length) return [];
    const links = queryRows<{ observation_key: string; agent_id: string; hostname: string; path: string }>(
      await this.ds.query(
        `SELECT o.observation_key, i.agent_id, a.hostname, i.path FROM endpoint_observations o
         LEFT JOIN endpoint_targets t ON t.id = o.target_id
         JOIN inventory_items i ON i.kind = 'certificate' AND i.fingerprint_sha256 = o.leaf_fingerprint_sha256 AND i.agent_id = COALESCE(t.host_agent_id, o.agent_id)
         JOIN agents a ON a.id = i.agent_id
         WHERE o.observation_key = ANY($1) ORDER BY i.path`,
        [keys],
      ),
    );
    return rows.map((row) => ({
      ...row,
      linkedFiles: links.filter((l) => l.observation_key === row.observationKey).map((l) => ({ agentId: l.agent_id, hostname: l.hostname, path: l.path })),
    }));
  }
}
