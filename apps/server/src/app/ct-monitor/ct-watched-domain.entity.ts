import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A domain whose certificates in CT logs certfleet should know about (the domain and its subdomains). */
@Entity('ct_watched_domains')
export class CtWatchedDomain {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Lowercase, no trailing dot. */
  @Column({ type: 'varchar', length: 253, unique: true })
  domain!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
