import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An RFC 6962 log the monitor polls, and how far it has read (kept, so a restart continues). */
@Entity('ct_logs')
export class CtLog {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Base URL; get-sth and get-entries are under <url>/ct/v1/. */
  @Column({ type: 'varchar', length: 2048, unique: true })
  url!: string;

  /** Base64 DER SubjectPublicKeyInfo: verifies the tree head signatures. */
  @Column({ type: 'text', name: 'public_key' })
  publicKey!: string;

  /** RFC 6962 log id (base64 SHA-256 of the key). */
  @Column({ type: 'varchar', length: 44, name: 'log_id' })
  logId!: string;

  /** The next entry index to read. */
  @Column({ type: 'bigint', name: 'next_index', default: 0 })
  nextIndex!: string;

  /** Tree size of the last verified tree head. */
  @Column({ type: 'bigint', name: 'tree_size', default: 0 })
  treeSize!: string;

  /** Base64 SHA-256 root hash of that tree head: each later one must be proven to extend it. */
  @Column({ type: 'varchar', length: 44, name: 'root_hash', nullable: true })
  rootHash!: string | null;

  @Column({ type: 'timestamptz', name: 'polled_at', nullable: true })
  polledAt!: Date | null;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
