import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The current CRL of each issuing CA, as served. One row per CA: the row lock is what makes several
 * replicas produce each CRL once (whoever holds it builds; the others find it already current).
 */
@Entity('issuing_ca_crls')
export class IssuingCaCrl {
  @PrimaryColumn({ type: 'uuid', name: 'issuing_ca_id' })
  issuingCaId!: string;

  /** CRLNumber of `der` (decimal string: bigint); 0 before the first CRL. */
  @Column({ type: 'bigint', name: 'crl_number' })
  crlNumber!: string;

  @Column({ type: 'timestamptz', name: 'this_update', nullable: true })
  thisUpdate!: Date | null;

  @Column({ type: 'timestamptz', name: 'next_update', nullable: true })
  nextUpdate!: Date | null;

  /** The highest revocation_seq of this CA that `der` includes ('0': none). */
  @Column({ type: 'bigint', name: 'last_revocation_seq' })
  lastRevocationSeq!: string;

  @Column({ type: 'integer', name: 'entries' })
  entries!: number;

  @Column({ type: 'bytea', nullable: true })
  der!: Buffer | null;
}
