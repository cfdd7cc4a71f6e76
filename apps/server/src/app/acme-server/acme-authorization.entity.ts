import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { ProblemDocument } from './acme-problem';
import type { AcmeIdentifier } from './acme-order.entity';

export type AcmeAuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type AcmeChallengeType = 'http-01' | 'dns-01' | 'tls-alpn-01';
export type AcmeChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

export interface AcmeChallenge {
  type: AcmeChallengeType;
  token: string;
  status: AcmeChallengeStatus;
  validated?: string;
  error?: ProblemDocument;
}

/** One identifier of one order, with its challenges (each order gets its own; none are reused). */
@Entity('acme_authorizations')
@Index('idx_acme_authorizations_order', ['orderId'])
export class AcmeAuthorization {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid', name: 'order_id' })
  orderId!: string;

  @Column({ type: 'uuid', name: 'account_id' })
  accountId!: string;

  @Column({ type: 'jsonb' })
  identifier!: AcmeIdentifier;

  @Column({ type: 'varchar', length: 16 })
  status!: AcmeAuthorizationStatus;

  @Column({ type: 'timestamptz' })
  expires!: Date;

  @Column({ type: 'jsonb' })
  challenges!: AcmeChallenge[];
}
