import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A one-time enrollment token; only its SHA-256 is stored. */
@Entity('enrollment_tokens')
export class EnrollmentToken {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 64, name: 'token_sha256', unique: true })
  tokenSha256!: string;

  @Column({ type: 'varchar', length: 500, default: '' })
  description!: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'used_at', nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'uuid', name: 'used_by_agent_id', nullable: true })
  usedByAgentId!: string | null;
}
