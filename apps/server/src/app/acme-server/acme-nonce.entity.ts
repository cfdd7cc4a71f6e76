import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A Replay-Nonce handed out and not yet used; shared by all replicas, deleted when used. */
@Entity('acme_nonces')
export class AcmeNonce {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  value!: string;

  @Column({ type: 'timestamptz', name: 'expires_at' })
  expiresAt!: Date;
}
