import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataSource, EntityManager } from 'typeorm';
import {
  createFleetCa,
  decryptPrivateKey,
  encryptPrivateKey,
  issueAgentCertificate,
  issueServerCertificate,
  loadOrCreateKeyFile,
  sha256Fingerprint,
} from '@certfleet/pki';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { LOCKS, withAdvisoryLock } from '../../database/advisory-lock';
import { AuthorityCredential, CredentialPurpose } from './authority-credential.entity';

export interface KeyPairPem {
  certificatePem: string;
  privateKeyPem: string;
}

const SERVER_CERT_DAYS = 365;
const SERVER_CERT_RENEW_DAYS = 30;

/**
 * The fleet CA that names agents, and the server's own TLS certificate. Both are created on first
 * start (once, even with several replicas) and kept in the database with their keys encrypted.
 */
@Injectable()
export class FleetCaService implements OnModuleInit {
  private ca!: KeyPairPem;
  private serverTls!: KeyPairPem;
  private encryptionKey!: Buffer;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    this.encryptionKey = this.config.caEncryptionKey
      ? decodeKey(this.config.caEncryptionKey)
      : loadOrCreateKeyFile(join(this.config.dataDir, 'ca-encryption.key'));
    await withAdvisoryLock(this.ds, LOCKS.fleetCa, async (m) => {
      this.ca = await this.loadOrCreate(m, 'fleet-ca', () => createFleetCa({ commonName: 'certfleet fleet CA' }));
      this.serverTls = await this.loadOrCreate(m, 'server-tls', () => this.newServerCertificate(), (pem) =>
        this.serverCertificateIsCurrent(pem),
      );
    });
  }

  get caCertificatePem(): string {
    return this.ca.certificatePem;
  }

  get caFingerprint(): string {
    return sha256Fingerprint(this.ca.certificatePem);
  }

  get serverCredentials(): KeyPairPem {
    return this.serverTls;
  }

  /** Encrypts another private key the server keeps (issuing CAs) with the same at-rest key. */
  sealPrivateKey(privateKeyPem: string): string {
    return encryptPrivateKey(privateKeyPem, this.encryptionKey);
  }

  openPrivateKey(sealed: string): string {
    return decryptPrivateKey(sealed, this.encryptionKey);
  }

  issueAgentCertificate(csrPem: string, agentId: string) {
    return issueAgentCertificate({
      ca: this.ca,
      csrPem,
      agentId,
      validityHours: this.config.agentCertificateValidityHours,
    });
  }

  private async loadOrCreate(
    m: EntityManager,
    purpose: CredentialPurpose,
    create: () => Promise<KeyPairPem>,
    isCurrent: (certificatePem: string) => boolean = () => true,
  ): Promise<KeyPairPem> {
    const repo = m.getRepository(AuthorityCredential);
    const existing = await repo.findOne({ where: { purpose, active: true }, order: { createdAt: 'DESC' } });
    if (existing && isCurrent(existing.certificatePem)) {
      return {
        certificatePem: existing.certificatePem,
        privateKeyPem: decryptPrivateKey(existing.encryptedPrivateKey, this.encryptionKey),
      };
    }
    const fresh = await create();
    if (existing) await repo.update({ id: existing.id }, { active: false });
    await repo.insert({
      purpose,
      certificatePem: fresh.certificatePem,
      encryptedPrivateKey: encryptPrivateKey(fresh.privateKeyPem, this.encryptionKey),
      fingerprintSha256: sha256Fingerprint(fresh.certificatePem),
      notAfter: new Date(new X509Certificate(fresh.certificatePem).validTo),
      active: true,
    });
    return fresh;
  }

  private serverNames(): { dnsNames: string[]; ipAddresses: string[] } {
    const names = ['localhost', hostname(), '127.0.0.1', '::1', ...this.config.publicNames];
    const isIp = (n: string) => /^[\d.]+$/.test(n) || n.includes(':');
    return {
      dnsNames: [...new Set(names.filter((n) => !isIp(n)))],
      ipAddresses: [...new Set(names.filter(isIp))],
    };
  }

  private newServerCertificate(): Promise<KeyPairPem> {
    return issueServerCertificate({
      ca: this.ca,
      commonName: 'certfleet control server',
      ...this.serverNames(),
      validityDays: SERVER_CERT_DAYS,
    });
  }

  /** Reissue when the certificate nears expiry or does not cover a configured name. */
  private serverCertificateIsCurrent(pem: string): boolean {
    const cert = new X509Certificate(pem);
    const renewAt = new Date(cert.validTo).getTime() - SERVER_CERT_RENEW_DAYS * 86_400_000;
    if (Date.now() > renewAt) return false;
    if (!cert.verify(new X509Certificate(this.ca.certificatePem).publicKey)) return false;
    const { dnsNames, ipAddresses } = this.serverNames();
    return dnsNames.every((n) => cert.checkHost(n) !== undefined) && ipAddresses.every((ip) => cert.checkIP(ip) !== undefined);
  }
}

function decodeKey(base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error('CERTFLEET_CA_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  return key;
}
