import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import * as acme from 'acme-client';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { isUuid } from '../../common/ids';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { AcmeIssuer } from './acme-issuer.entity';

export interface AcmeIssuerView {
  id: string;
  name: string;
  directoryUrl: string;
  contactEmail: string | null;
  eabKid: string | null;
  hasEabHmacKey: boolean;
  directoryTrustPem: string | null;
  rootPem: string | null;
  ariEnabled: boolean;
  maxIssuancesPerDay: number;
  accountUrl: string | null;
  createdAt: Date;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

function pemCertificates(pem: unknown, field: string): string | null {
  if (pem === undefined || pem === null || pem === '') return null;
  if (typeof pem !== 'string') throw new BadRequestException(`${field} must be PEM text`);
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw new BadRequestException(`${field} holds no PEM certificate`);
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch (err) {
      throw new BadRequestException(`${field} holds a certificate that cannot be read: ${(err as Error).message}`);
    }
  }
  return `${blocks.join('\n')}\n`;
}

/**
 * ACME issuers: where to order (directory), as whom (an account whose key is made and kept sealed
 * here), and how much reissuance to allow. The account is registered on first use.
 */
@Injectable()
export class AcmeIssuersService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FleetCaService) private readonly fleetCa: FleetCaService,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /** Secrets of ACME settings (EAB HMAC keys, TSIG secrets) are sealed like CA keys. */
  seal(secret: string): string {
    return this.fleetCa.sealPrivateKey(secret);
  }

  open(sealed: string): string {
    return this.fleetCa.openPrivateKey(sealed);
  }

  async create(body: Record<string, unknown>, actor: string): Promise<AcmeIssuerView> {
    const name = String(body.name ?? '');
    if (!NAME.test(name)) throw new BadRequestException('an ACME issuer name is 1-100 letters, digits, dots, dashes or underscores');
    const directoryUrl = String(body.directoryUrl ?? '');
    let url: URL;
    try {
      url = new URL(directoryUrl);
    } catch {
      throw new BadRequestException(`directoryUrl is not a URL: "${directoryUrl}"`);
    }
    if (url.protocol !== 'https:') throw new BadRequestException('directoryUrl must be https (RFC 8555 requires TLS)');
    const contactEmail = body.contactEmail ? String(body.contactEmail) : null;
    if (contactEmail !== null && !EMAIL.test(contactEmail)) throw new BadRequestException(`contactEmail is not an email address: "${contactEmail}"`);
    const eabKid = body.eabKid ? String(body.eabKid) : null;
    const eabHmacKey = body.eabHmacKey ? String(body.eabHmacKey) : null;
    if (Boolean(eabKid) !== Boolean(eabHmacKey)) throw new BadRequestException('External Account Binding needs both eabKid and eabHmacKey');
    if (eabHmacKey && !/^[A-Za-z0-9_-]+=*$/.test(eabHmacKey)) throw new BadRequestException('eabHmacKey must be base64url, as the CA gives it');
    const maxIssuancesPerDay = body.maxIssuancesPerDay === undefined || body.maxIssuancesPerDay === null ? 3 : Number(body.maxIssuancesPerDay);
    if (!Number.isInteger(maxIssuancesPerDay) || maxIssuancesPerDay < 1 || maxIssuancesPerDay > 100) throw new BadRequestException('maxIssuancesPerDay must be an integer from 1 to 100');
    const directoryTrustPem = pemCertificates(body.directoryTrustPem, 'directoryTrustPem');
    const rootPem = pemCertificates(body.rootPem, 'rootPem');
    const accountKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const row = await this.ds.transaction(async (m) => {
      if (await m.getRepository(AcmeIssuer).exists({ where: { name, removedAt: IsNull() } })) throw new ConflictException(`an ACME issuer named "${name}" already exists`);
      const saved = await m.getRepository(AcmeIssuer).save({
        name,
        directoryUrl,
        contactEmail,
        eabKid,
        encryptedEabHmacKey: eabHmacKey ? this.seal(eabHmacKey) : null,
        directoryTrustPem,
        rootPem,
        ariEnabled: body.ariEnabled === undefined ? true : body.ariEnabled === true || body.ariEnabled === 'true',
        maxIssuancesPerDay,
        encryptedAccountKey: this.seal(accountKeyPem),
        accountUrl: null,
        removedAt: null,
      });
      await this.audit.record(m, { actor, action: 'acme-issuer.created', subjectType: 'acme-issuer', subjectId: saved.id, detail: { after: this.view(saved) } });
      return saved;
    });
    return this.view(row);
  }

  async list(): Promise<AcmeIssuerView[]> {
    return (await this.ds.getRepository(AcmeIssuer).find({ where: { removedAt: IsNull() }, order: { name: 'ASC' } })).map((r) => this.view(r));
  }

  async get(idOrName: string): Promise<AcmeIssuerView> {
    return this.view(await this.find(idOrName));
  }

  async find(idOrName: string, m: EntityManager = this.ds.manager): Promise<AcmeIssuer> {
    const repo = m.getRepository(AcmeIssuer);
    const row = isUuid(idOrName) ? await repo.findOne({ where: { id: idOrName } }) : await repo.findOne({ where: { name: idOrName, removedAt: IsNull() } });
    if (!row || row.removedAt) throw new NotFoundException(`no ACME issuer "${idOrName}"`);
    return row;
  }

  /** Removed issuers are kept (their certificates still name them); managed certificates must move first. */
  async remove(idOrName: string, actor: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const row = await this.find(idOrName, m);
      const [{ n }] = (await m.query(`SELECT count(*)::int AS "n" FROM "managed_certificates" WHERE "acme_issuer_id" = $1 AND "removed_at" IS NULL`, [row.id])) as Array<{ n: number }>;
      if (n > 0) throw new ConflictException(`ACME issuer "${row.name}" still issues ${n} managed certificate(s): remove or move them first`);
      await m.getRepository(AcmeIssuer).update({ id: row.id }, { removedAt: new Date() });
      await this.audit.record(m, { actor, action: 'acme-issuer.removed', subjectType: 'acme-issuer', subjectId: row.id, detail: { before: this.view(row) } });
    });
  }

  /** An ACME client for the issuer, its account registered (once; the account URL is kept). */
  async client(issuer: AcmeIssuer): Promise<acme.Client> {
    const accountKey = this.open(issuer.encryptedAccountKey);
    const externalAccountBinding = issuer.eabKid && issuer.encryptedEabHmacKey ? { kid: issuer.eabKid, hmacKey: this.open(issuer.encryptedEabHmacKey) } : undefined;
    const client = new acme.Client({ directoryUrl: issuer.directoryUrl, accountKey, ...(issuer.accountUrl ? { accountUrl: issuer.accountUrl } : {}), ...(externalAccountBinding ? { externalAccountBinding } : {}) });
    if (!issuer.accountUrl) {
      await client.createAccount({ termsOfServiceAgreed: true, ...(issuer.contactEmail ? { contact: [`mailto:${issuer.contactEmail}`] } : {}) });
      issuer.accountUrl = client.getAccountUrl();
      await this.ds.getRepository(AcmeIssuer).update({ id: issuer.id, accountUrl: IsNull() }, { accountUrl: issuer.accountUrl });
    }
    return client;
  }

  view(r: AcmeIssuer): AcmeIssuerView {
    return {
      id: r.id,
      name: r.name,
      directoryUrl: r.directoryUrl,
      contactEmail: r.contactEmail,
      eabKid: r.eabKid,
      hasEabHmacKey: Boolean(r.encryptedEabHmacKey),
      directoryTrustPem: r.directoryTrustPem,
      rootPem: r.rootPem,
      ariEnabled: r.ariEnabled,
      maxIssuancesPerDay: r.maxIssuancesPerDay,
      accountUrl: r.accountUrl,
      createdAt: r.createdAt,
    };
  }
}
