import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * Assigns an owner and tags to every certificate it matches; all given criteria must match. Rules
 * are tried by ascending priority (then name); the first match wins.
 */
@Entity('ownership_rules')
@Unique('UQ_ownership_rules_name', ['name'])
export class OwnershipRule {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_ownership_rules' })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'int', default: 100 })
  priority!: number;

  /** Glob on the file path: `*` within a directory, `**` across directories, `?` one character. */
  @Column({ type: 'varchar', length: 1024, name: 'path_glob', nullable: true })
  pathGlob!: string | null;

  /** Glob on any DNS name or the subject CN, e.g. `*.shop.example.com` (`*` may span labels). */
  @Column({ type: 'varchar', length: 512, name: 'san_pattern', nullable: true })
  sanPattern!: string | null;

  /** Every label given must be on the holding agent, with this value. */
  @Column({ type: 'jsonb', name: 'agent_labels', nullable: true })
  agentLabels!: Record<string, string> | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  team!: string | null;

  @Column({ type: 'jsonb', default: [] })
  emails!: string[];

  @Column({ type: 'jsonb', default: [] })
  channels!: string[];

  @Column({ type: 'jsonb', default: [] })
  tags!: string[];

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
