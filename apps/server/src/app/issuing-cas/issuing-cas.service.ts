import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, EntityManager, In } from 'typeorm';
import {
  createIssuingCaRequest,
  createRootCa,
  issueLeafCertificate,
  IssuedLeaf,
  IssuingCa as LoadedIssuingCa,
  LeafProfile,
  loadIssuingCa,
  sha256Fingerprint,
  signIntermediate,
  writeFileAtomic,
  type CaCurve,
} from '@certfleet/pki';
import { isUuid } from '../../common/ids';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { CaImportError, checkCaChain } from './ca-bundle';
import { IssuedCertificate } from './issued-certificate.entity';
import { IssuingCa } from './issuing-ca.entity';
import { PkiUrls } from './pki-urls';

/** How many replacements deep a succession is followed. */
const MAX_SUCCESSION = 32;

/** Oldest first, following superseded_by_id from the one no other CA of the set was replaced by. */
function inSuccessionOrder(cas: IssuingCa[]): IssuingCa[] {
  const byId = new Map(cas.map((c) => [c.id, c]));
  const replaced = new Set(cas.map((c) => c.supersededById).filter((id): id is string => !!id && byId.has(id)));
  const ordered: IssuingCa[] = [];
  for (let c = cas.find((x) => !replaced.has(x.id)); c && !ordered.includes(c); c = c.supersededById ? byId.get(c.supersededById) : undefined) ordered.push(c);
  // A cycle written by hand leaves no first one: the rest in any order, so nothing is lost.
  return ordered.length === cas.length ? ordered : [...ordered, ...cas.filter((c) => !ordered.includes(c))];
}

export interface IssuingCaView {
  id: string;
  name: string;
  status: IssuingCa['status'];
  subject: string | null;
  fingerprintSha256: string | null;
  notAfter: Date | null;
  createdAt: Date;
  activatedAt: Date | null;
  /** Only while pending: what the offline root must sign. */
  csrPem?: string;
  certificatePem?: string | null;
  chainPem?: string;
  rootPem?: string | null;
}

export interface IssueRequest {
  publicKeySpki: Buffer;
  profile: LeafProfile;
  jobId: string | null;
  managedCertificateId: string | null;
}

export interface IssuedFromCa {
  leaf: IssuedLeaf;
  /** Intermediates from the issuing CA up to (not including) the root. */
  chainPem: string;
  rootPem: string;
}

export class IssuerUnavailableError extends Error {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

/** What a leaf from `ca` is sent with: the issuing CA and any intermediates (not the root), and the root. */
function chainOf(ca: IssuingCa): { chainPem: string; rootPem: string } {
  return { chainPem: `${(ca.certificatePem ?? '').trim()}\n${ca.chainPem}`, rootPem: ca.rootPem ?? '' };
}

export function publicKeySha256(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

/**
 * The internal issuing CAs: created here (key never leaves, CSR for the offline root), imported once
 * signed, or made together with a lab root by quick-start. Several may be active at once.
 */
@Injectable()
export class IssuingCasService {
  private readonly loaded = new Map<string, LoadedIssuingCa>();

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FleetCaService) private readonly fleetCa: FleetCaService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(PkiUrls) private readonly urls: PkiUrls,
  ) {
    // CAs loaded before the public URL was known would issue leaves without AIA/CDP.
    urls.onChange(() => this.loaded.clear());
  }

  async create(name: string, curve: CaCurve, actor: string, organization?: string): Promise<IssuingCaView> {
    this.checkName(name);
    const { privateKeyPem, csrPem } = await createIssuingCaRequest({ commonName: name, organization }, curve);
    const row = await this.ds.transaction(async (m) => {
      await this.assertNameFree(m, name);
      const saved = await m.getRepository(IssuingCa).save({ name, status: 'pending', csrPem, encryptedPrivateKey: this.fleetCa.sealPrivateKey(privateKeyPem), chainPem: '', certificatePem: null, rootPem: null, fingerprintSha256: null, notAfter: null, activatedAt: null });
      await this.audit.record(m, { actor, action: 'issuing-ca.created', subjectType: 'issuing-ca', subjectId: saved.id, detail: { after: { name, curve, status: 'pending' } } });
      return saved;
    });
    return this.view(row, true);
  }

  /** Activates a pending CA with the certificate the root signed and the chain up to that root. */
  async importCertificate(id: string, certificatePem: string, chainPem: string, actor: string): Promise<IssuingCaView> {
    const row = await this.ds.transaction(async (m) => {
      const ca = await m.getRepository(IssuingCa).findOne({ where: { id } });
      if (!ca) throw new NotFoundException(`no issuing CA ${id}`);
      if (ca.status !== 'pending') throw new ConflictException(`issuing CA "${ca.name}" is ${ca.status}, not waiting for its certificate`);
      const privateKeyPem = this.fleetCa.openPrivateKey(ca.encryptedPrivateKey);
      let cert: X509Certificate;
      let chain;
      try {
        cert = new X509Certificate(certificatePem);
        const keyDer = createPublicKey(privateKeyPem).export({ format: 'der', type: 'spki' });
        if (!cert.publicKey.export({ format: 'der', type: 'spki' }).equals(keyDer)) {
          throw new CaImportError(`this certificate is not for issuing CA "${ca.name}": its public key differs from the key the server generated (was the right CSR signed?)`);
        }
        chain = checkCaChain(cert.toString(), chainPem);
        loadIssuingCa({ certificatePem: cert.toString(), privateKeyPem, chainPem: chain.intermediatesPem + chain.rootPem });
      } catch (err) {
        throw new BadRequestException(`cannot import the certificate of issuing CA "${ca.name}": ${(err as Error).message}`);
      }
      const after = { status: 'active' as const, certificatePem: cert.toString(), chainPem: chain.intermediatesPem, rootPem: chain.rootPem, fingerprintSha256: sha256Fingerprint(cert.toString()), notAfter: new Date(cert.validTo), activatedAt: new Date() };
      await m.getRepository(IssuingCa).update({ id }, after);
      await this.audit.record(m, { actor, action: 'issuing-ca.imported', subjectType: 'issuing-ca', subjectId: id, detail: { before: { status: 'pending' }, after: { status: 'active', subject: cert.subject.replace(/\n/g, ', '), fingerprintSha256: after.fingerprintSha256, notAfter: after.notAfter, root: new X509Certificate(chain.rootPem).subject.replace(/\n/g, ', ') } } });
      // Renewals that failed while no usable issuer existed go again now.
      await m.query(`UPDATE "managed_certificates" SET "next_renewal_at" = now() WHERE "issuing_ca_id" = $1 AND "failure_count" > 0 AND "status" <> 'removed'`, [id]);
      return { ...ca, ...after };
    });
    return this.view(row, true);
  }

  /**
   * For labs: a root CA and an issuing CA in one step. The root key is written 0600 to the data
   * directory (printed path) so it can later sign more issuing CAs; take it offline for real use.
   */
  async quickStart(name: string, actor: string): Promise<IssuingCaView & { rootKeyPath: string }> {
    this.checkName(name);
    const root = await createRootCa({ commonName: `${name} Root CA` });
    const pending = await this.create(name, 'P-256', actor);
    const certificatePem = await signIntermediate(root, pending.csrPem!);
    const dir = join(this.config.dataDir, 'lab-roots');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const rootKeyPath = join(dir, `${pending.id}.root-key.pem`);
    writeFileAtomic(rootKeyPath, root.privateKeyPem, 0o600);
    writeFileAtomic(join(dir, `${pending.id}.root.pem`), root.certificatePem, 0o644);
    const view = await this.importCertificate(pending.id, certificatePem, root.certificatePem, actor);
    return { ...view, rootKeyPath };
  }

  async list(): Promise<IssuingCaView[]> {
    const rows = await this.ds.getRepository(IssuingCa).find({ order: { createdAt: 'ASC' } });
    return rows.map((r) => this.view(r, false));
  }

  async get(idOrName: string): Promise<IssuingCaView> {
    return this.view(await this.find(idOrName), true);
  }

  async find(idOrName: string, m: EntityManager = this.ds.manager): Promise<IssuingCa> {
    const repo = m.getRepository(IssuingCa);
    const row = isUuid(idOrName) ? await repo.findOne({ where: { id: idOrName } }) : await repo.findOne({ where: { name: idOrName } });
    if (!row) throw new NotFoundException(`no issuing CA "${idOrName}"`);
    return row;
  }

  /**
   * The CAs that stand for one another through break-glass replacements, oldest first: the
   * predecessors of the CA named `idOrName`, that CA, and its successors. The last is the one that
   * issues now. Every ACME request resolves its directory with it.
   */
  async findSuccession(idOrName: string): Promise<IssuingCa[]> {
    // Almost always a CA that was never replaced: one plain lookup tells (the walk below costs more to plan).
    const { entities, raw } = await this.ds
      .getRepository(IssuingCa)
      .createQueryBuilder('c')
      .addSelect(`EXISTS (SELECT 1 FROM "issuing_cas" p WHERE p."superseded_by_id" = c."id")`, 'replaced_one')
      .where(isUuid(idOrName) ? 'c.id = :ref' : 'c.name = :ref', { ref: idOrName })
      .getRawAndEntities<{ replaced_one: boolean }>();
    if (entities.length === 0) throw new NotFoundException(`no issuing CA "${idOrName}"`);
    if (!entities[0].supersededById && !raw[0].replaced_one) return entities;
    // Bounded walks both ways, so a cycle written by hand in the database cannot loop.
    const rows = await this.ds
      .getRepository(IssuingCa)
      .createQueryBuilder('c')
      .where(
        `c.id IN (WITH RECURSIVE later AS (SELECT "id", "superseded_by_id", 0 AS step FROM "issuing_cas" WHERE "id" = :id
                                          UNION ALL SELECT n."id", n."superseded_by_id", l.step + 1 FROM "issuing_cas" n JOIN later l ON n."id" = l."superseded_by_id" WHERE l.step < ${MAX_SUCCESSION}),
                                earlier AS (SELECT "id", 0 AS step FROM "issuing_cas" WHERE "id" = :id
                                          UNION ALL SELECT p."id", e.step + 1 FROM "issuing_cas" p JOIN earlier e ON p."superseded_by_id" = e."id" WHERE e.step < ${MAX_SUCCESSION})
                  SELECT "id" FROM later UNION SELECT "id" FROM earlier)`,
      )
      .setParameters({ id: entities[0].id })
      .getMany();
    return inSuccessionOrder(rows);
  }

  /** The CA to use when a profile names none: the only active one. */
  async defaultActive(m: EntityManager = this.ds.manager): Promise<IssuingCa> {
    const active = await m.getRepository(IssuingCa).find({ where: { status: 'active' } });
    if (active.length === 1) return active[0];
    throw new BadRequestException(
      active.length === 0
        ? 'no active issuing CA: create one (certfleet ca create-issuing, or certfleet ca quick-start for a lab)'
        : `several issuing CAs are active (${active.map((a) => a.name).join(', ')}): name one with --issuer`,
    );
  }

  /**
   * Signs and records certificates in `m`'s transaction (one read of the CAs, one insert). The caller
   * has checked each CSR against its profile and policy. Each answer is the certificate, or why its CA
   * cannot sign; the others are still issued.
   */
  async issueMany(m: EntityManager, requests: Array<IssueRequest & { caId: string }>): Promise<Array<IssuedFromCa | IssuerUnavailableError>> {
    const caIds = [...new Set(requests.map((r) => r.caId))];
    const rows = new Map((await m.getRepository(IssuingCa).find({ where: { id: In(caIds) } })).map((r) => [r.id, r]));
    const signers = new Map(caIds.map((id) => [id, this.signerFor(id, rows.get(id))]));
    const records: IssuedCertificate[] = [];
    const answers = requests.map((request) => {
      const signer = signers.get(request.caId)!;
      if (signer instanceof IssuerUnavailableError) return signer;
      const leaf = issueLeafCertificate(signer.ca, { publicKeySpki: request.publicKeySpki, profile: request.profile });
      records.push({
        serial: leaf.serialHex,
        issuingCaId: request.caId,
        managedCertificateId: request.managedCertificateId,
        jobId: request.jobId,
        publicKeySha256: publicKeySha256(request.publicKeySpki),
        fingerprintSha256: leaf.fingerprintSha256,
        certificatePem: leaf.certificatePem,
        notBefore: leaf.notBefore,
        notAfter: leaf.notAfter,
        issuedAt: new Date(),
        revokedAt: null,
        revocationReason: null,
      });
      return { leaf, ...chainOf(signer.row) };
    });
    if (records.length > 0) await m.getRepository(IssuedCertificate).insert(records);
    return answers;
  }

  /** The loaded (decrypted) CA for `row`, kept between calls; or why it cannot sign now. */
  private signerFor(caId: string, row: IssuingCa | undefined): { ca: LoadedIssuingCa; row: IssuingCa } | IssuerUnavailableError {
    if (!row || row.status !== 'active' || !row.certificatePem || !row.rootPem) {
      return new IssuerUnavailableError(`issuing CA ${row?.name ?? caId} is ${row ? row.status : 'missing'}: it cannot sign`);
    }
    const ca = this.loadedCa(row);
    if (ca instanceof IssuerUnavailableError) return ca;
    if (ca.notAfter.getTime() <= Date.now()) return new IssuerUnavailableError(`issuing CA ${row.name} expired on ${ca.notAfter.toISOString()}`);
    return { ca, row };
  }

  /**
   * The CA's key and certificate, decrypted once and kept: for certificates (active CAs) and for
   * CRLs and OCSP answers (any CA with a certificate, also retired or revoked ones).
   */
  loadedCa(row: IssuingCa): LoadedIssuingCa | IssuerUnavailableError {
    if (!row.certificatePem || !row.rootPem) return new IssuerUnavailableError(`issuing CA ${row.name} has no certificate yet`);
    let ca = this.loaded.get(row.id);
    if (!ca || ca.notAfter.getTime() !== row.notAfter?.getTime()) {
      try {
        ca = loadIssuingCa(
          { certificatePem: row.certificatePem, privateKeyPem: this.fleetCa.openPrivateKey(row.encryptedPrivateKey), chainPem: row.chainPem + row.rootPem },
          // An expired CA still signs its last CRLs and OCSP answers; issuance checks expiry itself.
          { revocationUrls: this.urls.forLeaves(row.id), now: new Date(Math.min(Date.now(), (row.notAfter?.getTime() ?? Date.now()) - 1000)) },
        );
      } catch (err) {
        return new IssuerUnavailableError(`issuing CA ${row.name} cannot sign: ${(err as Error).message}`);
      }
      this.loaded.set(row.id, ca);
    }
    return ca;
  }

  /** The chain a certificate from `caId` needs (issuing CA first, without the root) and the root. */
  async chainFor(caId: string, m: EntityManager = this.ds.manager): Promise<{ chainPem: string; rootPem: string }> {
    return chainOf(await m.getRepository(IssuingCa).findOneOrFail({ where: { id: caId } }));
  }

  private checkName(name: string): void {
    if (!NAME.test(name ?? '')) throw new BadRequestException('an issuing CA name is 1-100 letters, digits, spaces, dots, dashes or underscores');
  }

  private async assertNameFree(m: EntityManager, name: string): Promise<void> {
    if (await m.getRepository(IssuingCa).exists({ where: { name } })) throw new ConflictException(`an issuing CA named "${name}" already exists`);
  }

  private view(r: IssuingCa, full: boolean): IssuingCaView {
    const subject = r.certificatePem ? new X509Certificate(r.certificatePem).subject.replace(/\n/g, ', ') : null;
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      subject,
      fingerprintSha256: r.fingerprintSha256,
      notAfter: r.notAfter,
      createdAt: r.createdAt,
      activatedAt: r.activatedAt,
      ...(r.status === 'pending' ? { csrPem: r.csrPem } : {}),
      ...(full ? { certificatePem: r.certificatePem, chainPem: r.chainPem, rootPem: r.rootPem } : {}),
    };
  }
}
