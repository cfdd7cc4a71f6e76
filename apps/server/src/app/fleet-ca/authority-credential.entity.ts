import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type CredentialPurpose = 'fleet-ca' | 'server-tls';

/** A certificate and its private key, encrypted at rest, that the server itself uses. */
@Entity('authority_credentials')
export class AuthorityCredential {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  purpose!: CredentialPurpose;

  @Column({ type: 'text', name: 'certificate_pem' })
  certificatePem!: string;

  /** AES-256-GCM envelope; the key comes from config or the 0600 key file. */
  @Column({ type: 'text', name: 'encrypted_private_key' })
  encryptedPrivateKey!: string;

  @Column({ type: 'varchar', length: 64, name: 'fingerprint_sha256' })
  fingerprintSha256!: string;

  @Column({ type: 'timestamptz', name: 'not_after' })
  notAfter!: Date;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;
}
