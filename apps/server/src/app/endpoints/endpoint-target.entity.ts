import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Agent } from '../agents/agent.entity';

/** A host:port (with SNI) probed on a schedule, by the server or by an agent chosen for it. */
@Entity('endpoint_targets')
@Index('uq_endpoint_targets_address', ['host', 'port', 'serverName'], { unique: true })
@Index('idx_endpoint_targets_next_probe', ['nextProbeAt'])
export class EndpointTarget {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 253 })
  host!: string;

  @Column({ type: 'int' })
  port!: number;

  /** SNI and the name the certificate must match; '' for none (the host is checked). */
  @Column({ type: 'varchar', length: 253, name: 'server_name', default: '' })
  serverName!: string;

  /** The agent on the host that serves this endpoint, if any: its inventory links the served certificate to a file. */
  @Column({ type: 'uuid', name: 'host_agent_id', nullable: true })
  hostAgentId!: string | null;

  @ManyToOne(() => Agent, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'host_agent_id' })
  hostAgent?: Agent;

  /** The agent that probes this endpoint from its network; null when the server probes it. */
  @Column({ type: 'uuid', name: 'probe_agent_id', nullable: true })
  probeAgentId!: string | null;

  @ManyToOne(() => Agent, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'probe_agent_id' })
  probeAgent?: Agent;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** When the background pass probes it next (claimed with FOR UPDATE SKIP LOCKED, so one replica does). */
  @Column({ type: 'timestamptz', name: 'next_probe_at' })
  nextProbeAt!: Date;
}
