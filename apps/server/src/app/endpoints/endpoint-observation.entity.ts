import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export interface ObservedCertificate {
  fingerprintSha256: string;
  subject: string;
  issuer: string;
  notAfter: string;
}

/**
 * The latest probe of one endpoint as one prober saw it: the server probing a target, or an agent
 * probing a listener on its own host. Keyed by prober and address, so a new probe replaces the old.
 */
@Entity('endpoint_observations')
@Index('idx_endpoint_observations_leaf', ['leafFingerprintSha256'])
@Index('idx_endpoint_observations_agent', ['agentId'])
export class EndpointObservation {
  /** "<prober>|<host>|<port>|<server name>", prober = "server" or the agent id. */
  @PrimaryColumn({ type: 'varchar', length: 600, name: 'observation_key' })
  observationKey!: string;

  @Column({ type: 'uuid', name: 'target_id', nullable: true })
  targetId!: string | null;

  /** The agent that probed (a listener on its host); null when the server probed. */
  @Column({ type: 'uuid', name: 'agent_id', nullable: true })
  agentId!: string | null;

  @Column({ type: 'varchar', length: 253 })
  host!: string;

  @Column({ type: 'int' })
  port!: number;

  @Column({ type: 'varchar', length: 253, name: 'server_name', default: '' })
  serverName!: string;

  @Column({ type: 'boolean' })
  tls!: boolean;

  /** Why no handshake completed. */
  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  protocol!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  cipher!: string | null;

  /** Served chain, leaf first. */
  @Column({ type: 'jsonb' })
  chain!: ObservedCertificate[];

  @Column({ type: 'varchar', length: 64, name: 'leaf_fingerprint_sha256', nullable: true })
  leafFingerprintSha256!: string | null;

  @Column({ type: 'boolean', name: 'hostname_match' })
  hostnameMatch!: boolean;

  @Column({ type: 'text', name: 'hostname_error', nullable: true })
  hostnameError!: string | null;

  @Column({ type: 'boolean', name: 'chain_valid' })
  chainValid!: boolean;

  /** OpenSSL's verify error, e.g. CERT_HAS_EXPIRED. */
  @Column({ type: 'text', name: 'chain_error', nullable: true })
  chainError!: string | null;

  /** Stapled OCSP: good | revoked | unknown | invalid | unverified; null when nothing was stapled. */
  @Column({ type: 'varchar', length: 16, name: 'ocsp_status', nullable: true })
  ocspStatus!: string | null;

  @Column({ type: 'timestamptz', name: 'not_after', nullable: true })
  notAfter!: Date | null;

  /** Protocol versions the server accepted when tried one by one; null when not tried. */
  @Column({ type: 'jsonb', name: 'accepted_versions', nullable: true })
  acceptedVersions!: string[] | null;

  /** For agent listeners: the process listening, when the agent could see it. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  process!: string | null;

  @Column({ type: 'timestamptz', name: 'probed_at' })
  probedAt!: Date;

  /** "server" or the agent's hostname. */
  @Column({ type: 'varchar', length: 255, name: 'probed_by' })
  probedBy!: string;
}
