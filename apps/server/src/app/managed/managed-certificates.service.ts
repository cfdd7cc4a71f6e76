import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException, Optional } from '@nestjs/common';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { checkProfile, DEFAULT_ISSUANCE_POLICY, type CertificateProfile, type ProfileKeyType } from '@certfleet/policy';
import { renewalTime } from '@certfleet/pki';
import type { TargetSpec } from '@certfleet/targets';
import { isUuid } from '../../common/ids';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { AcmeChallengeInputError, parseAcmeChallenge, redactAcmeChallenge, type AcmeChallengeSpec } from '../acme-issuer/acme-challenge-spec';
import { AcmeIssuer } from '../acme-issuer/acme-issuer.entity';
import { AcmeIssuersService } from '../acme-issuer/acme-issuers.service';
import { Agent } from '../agents/agent.entity';
import { AuditEntry, AuditService } from '../audit/audit.service';
import { InventoryItem } from '../inventory/inventory-item.entity';
import { IssuedCertificate } from '../issuing-cas/issued-certificate.entity';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { CertificateJob, OPEN_JOB_STATES } from '../jobs/certificate-job.entity';
import { ManagedCertificate } from './managed-certificate.entity';
import {
  certificatePathOf,
  ManagedInputError,
  parseProfile,
  parseTargets,
  parseValidation,
  redactTargets,
  reloadTimeout,
  renewBeforeDays,
} from './managed-input';

const DAY_MS = 86_400_000;

export interface ManagedCertificateView {
  id: string;
  name: string;
  agentId: string;
  hostname: string | null;
  /** name: the issuing CA's, or "acme:<issuer>" with the challenge settings (no secrets). */
  issuer: { kind: 'internal' | 'acme'; issuingCaId: string | null; name: string | null; acmeIssuerId?: string | null; challenge?: Record<string, unknown> | null };
  profile: CertificateProfile;
  targets: TargetSpec[];
  reloadCommand: string;
  reloadTimeoutSeconds: number;
  validation: ManagedCertificate['validation'];
  renewBeforeDays: number | null;
  status: ManagedCertificate['status'];
  currentSerial: string | null;
  currentFingerprint: string | null;
  notBefore: Date | null;
  notAfter: Date | null;
  nextRenewalAt: Date | null;
  failureCount: number;
  lastError: string | null;
  adoptedFrom: string | null;
  openJob: { id: string; state: string; attempt: number; createdAt: Date } | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ManagedDetailView extends ManagedCertificateView {
  jobs: {
    id: string;
    reason: string;
    state: string;
    attempt: number;
    stage: string | null;
    error: string | null;
    issuedSerial: string | null;
    /** When it was due, made, signed and finished; the agent's own time for install and validation. */
    dueAt: Date;
    createdAt: Date;
    issuedAt: Date | null;
    finishedAt: Date | null;
    agentDurationMs: number | null;
  }[];
}

/** Which managed certificates a bulk renew-now takes: all, or those of one issuing CA and/or agent. */
export interface RenewSelector {
  all?: boolean;
  issuer?: string;
  agentId?: string;
}

/** Managed certificates: what certfleet keeps issued, installed and renewed on an agent. */
@Injectable()
export class ManagedCertificatesService {
  readonly policy = DEFAULT_ISSUANCE_POLICY;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(AuditService) private readonly audit: AuditService,
    @Optional() @Inject(AcmeIssuersService) private readonly acmeIssuers?: AcmeIssuersService,
  ) {}

  /** When a certificate with this validity is due for renewal (2/3 of its life, jittered, before CRITICAL). */
  renewalTimeFor(m: Pick<ManagedCertificate, 'id' | 'renewBeforeDays'>, notBefore: Date, notAfter: Date): Date {
    return renewalTime({
      notBefore,
      notAfter,
      renewBeforeMs: m.renewBeforeDays === null ? undefined : m.renewBeforeDays * DAY_MS,
      criticalMs: this.config.expiry.criticalDays * DAY_MS,
      jitterKey: m.id,
    });
  }

  async create(body: Record<string, unknown>, actor: string): Promise<ManagedCertificateView> {
    const input = this.parse(body);
    const id = await this.ds.transaction(async (m) => {
      const agent = await this.agent(m, String(body.agentId ?? ''));
      const acme = await this.acmeIssuerOf(m, body);
      const ca = acme ? null : body.issuer ? await this.cas.find(String(body.issuer), m) : await this.cas.defaultActive(m);
      if (ca?.status === 'retired') throw new BadRequestException(`issuing CA "${ca.name}" is retired`);
      await this.assertNameFree(m, input.name);
      const row = await m.getRepository(ManagedCertificate).save({
        ...input,
        agentId: agent.id,
        issuerKind: acme ? 'acme' : 'internal',
        issuingCaId: ca?.id ?? null,
        acmeIssuerId: acme?.issuer.id ?? null,
        acmeChallenge: acme?.challenge ?? null,
        status: 'pending',
        nextRenewalAt: new Date(),
        failureCount: 0,
        currentSerial: null,
        currentFingerprint: null,
        notBefore: null,
        notAfter: null,
        lastError: null,
        adoptedFrom: null,
        removedAt: null,
      });
      const issuerName = ca ? ca.name : `acme:${acme!.issuer.name}`;
      await this.audit.record(m, { actor, action: 'managed.created', subjectType: 'managed-certificate', subjectId: row.id, detail: { after: { ...this.auditable(row, issuerName, agent.hostname), ...(acme ? { challenge: redactAcmeChallenge(acme.challenge) } : {}) } } });
      return row.id;
    });
    return this.get(id);
  }

  /**
   * Takes over a certificate discovery found: same names, key type and lifetime, installed where it
   * is now. It keeps being used until its renewal time; then certfleet issues the successor.
   */
  async adopt(body: Record<string, unknown>, actor: string): Promise<ManagedCertificateView> {
    const fingerprint = String(body.fingerprint ?? '').toLowerCase().replace(/:/g, '');
    if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new BadRequestException('fingerprint must be the SHA-256 of the discovered certificate (64 hex digits)');
    const holder = await this.agent(this.ds.manager, String(body.agentId ?? ''));
    const found = await this.ds.getRepository(InventoryItem).find({ where: { agentId: holder.id, kind: 'certificate', fingerprintSha256: fingerprint } });
    if (found.length === 0) throw new NotFoundException(`agent ${body.agentId} has reported no certificate with fingerprint ${fingerprint}`);
    const item = found.find((i) => i.entry === '0') ?? found[0];
    const d = item.detail as {
      format: string; dnsNames: string[]; ipAddresses: string[]; keyAlgorithm: string; keySize: number; keyCurve: string; isCa: boolean;
      pairedKey?: { path: string; sameFile: boolean }; chainLength: number; subject: string;
    };
    if (d.isCa) throw new BadRequestException('this is a CA certificate: certfleet manages end-entity certificates');
    if (d.format !== 'pem') throw new BadRequestException(`adopting a ${d.format} file needs explicit targets; give "targets" (e.g. pkcs12 or java-keystore with its password)`);
    const keyType = keyTypeOf(d.keyAlgorithm, d.keySize, d.keyCurve);
    let targets: TargetSpec[];
    if (body.targets) targets = parseTargets(body.targets);
    else if (!d.pairedKey) throw new BadRequestException(`no private key was found for ${item.path}: give "targets" explicitly`);
    else if (d.pairedKey.sameFile) targets = [{ kind: 'combined-pem', path: item.path }];
    else if (found.length > 1 || Number(item.entry) > 0 || d.chainLength > 1) targets = [{ kind: 'fullchain-pem', path: item.path, keyPath: d.pairedKey.path }];
    else targets = [{ kind: 'pem-files', certPath: item.path, keyPath: d.pairedKey.path }];
    const lifetimeDays = item.notBefore && item.notAfter ? Math.max(1, Math.round((item.notAfter.getTime() - item.notBefore.getTime()) / DAY_MS)) : 90;
    const profileBody = {
      keyType,
      dnsNames: d.dnsNames,
      ipAddresses: d.ipAddresses,
      validityDays: Math.min(lifetimeDays, this.policy.maxValidityDays),
      usages: ['tls-server'],
      ...(body.profile as object | undefined),
    };
    const input = this.parse({ ...body, name: body.name ?? (d.dnsNames[0] || item.path), profile: profileBody, targets });
    const id = await this.ds.transaction(async (m) => {
      const agent = await this.agent(m, item.agentId);
      const ca = body.issuer ? await this.cas.find(String(body.issuer), m) : await this.cas.defaultActive(m);
      await this.assertNameFree(m, input.name);
      const draft = m.getRepository(ManagedCertificate).create({
        ...input,
        agentId: agent.id,
        issuerKind: 'internal',
        issuingCaId: ca.id,
        status: 'active',
        failureCount: 0,
        currentSerial: item.serial,
        currentFingerprint: fingerprint,
        notBefore: item.notBefore,
        notAfter: item.notAfter,
        lastError: null,
        adoptedFrom: fingerprint,
        removedAt: null,
      });
      const row = await m.getRepository(ManagedCertificate).save(draft);
      const due = row.notBefore && row.notAfter ? this.renewalTimeFor(row, row.notBefore, row.notAfter) : new Date();
      await m.getRepository(ManagedCertificate).update({ id: row.id }, { nextRenewalAt: due });
      await this.audit.record(m, { actor, action: 'managed.adopted', subjectType: 'managed-certificate', subjectId: row.id, detail: { adoptedFrom: { path: item.path, fingerprint, serial: item.serial, subject: d.subject }, after: { ...this.auditable(row, ca.name, agent.hostname), nextRenewalAt: due } } });
      return row.id;
    });
    return this.get(id);
  }

  async list(filter: { agentId?: string; status?: string } = {}): Promise<ManagedCertificateView[]> {
    if (filter.status && !['pending', 'active', 'failing'].includes(filter.status)) throw new BadRequestException('status must be pending, active or failing');
    if (filter.agentId) filter = { ...filter, agentId: (await this.agent(this.ds.manager, filter.agentId)).id };
    const rows = await this.ds.getRepository(ManagedCertificate).find({
      where: { removedAt: IsNull(), ...(filter.agentId ? { agentId: filter.agentId } : {}), ...(filter.status ? { status: filter.status as ManagedCertificate['status'] } : {}) },
      order: { name: 'ASC' },
    });
    return this.views(rows);
  }

  async get(idOrName: string): Promise<ManagedDetailView> {
    const row = await this.find(idOrName);
    const [view] = await this.views([row]);
    const jobs = await this.ds.getRepository(CertificateJob).find({ where: { managedCertificateId: row.id }, order: { createdAt: 'DESC' }, take: 20 });
    return {
      ...view,
      jobs: jobs.map((j) => ({ id: j.id, reason: j.reason, state: j.state, attempt: j.attempt, stage: j.stage, error: j.error, issuedSerial: j.issuedSerial, dueAt: j.dueAt, createdAt: j.createdAt, issuedAt: j.issuedAt, finishedAt: j.finishedAt, agentDurationMs: j.agentDurationMs })),
    };
  }

  /** Due now: the scheduler starts a job on its next pass (immediately if it is idle). */
  async renewNow(idOrName: string, actor: string): Promise<ManagedDetailView> {
    const row = await this.find(idOrName);
    await this.ds.transaction(async (m) => {
      const open = await m.getRepository(CertificateJob).findOne({ where: { managedCertificateId: row.id, state: In([...OPEN_JOB_STATES]) } });
      if (open) throw new ConflictException(`a job is already running for "${row.name}" (${open.id}, ${open.state})`);
      await m.getRepository(ManagedCertificate).update({ id: row.id }, { nextRenewalAt: new Date() });
      await this.audit.record(m, { actor, action: 'managed.renew-requested', subjectType: 'managed-certificate', subjectId: row.id, detail: { before: { nextRenewalAt: row.nextRenewalAt }, after: { nextRenewalAt: new Date() } } });
    });
    return this.get(row.id);
  }

  /**
   * Renew-now for many: every selected certificate without an open job becomes due now, in one
   * transaction (one audit event each). Returns how many; the others already have a job running.
   */
  async renewManyNow(selector: RenewSelector, actor: string): Promise<{ requested: number; alreadyRunning: number }> {
    if (!selector.all && !selector.issuer && !selector.agentId) {
      throw new BadRequestException('say which certificates to renew: all, an issuer, or an agent (all: true renews every managed certificate)');
    }
    if (selector.agentId && !isUuid(selector.agentId)) throw new BadRequestException(`agentId "${selector.agentId}" is not an agent id`);
    const issuingCaId = selector.issuer ? (await this.cas.find(selector.issuer)).id : null;
    return this.ds.transaction(async (m) => {
      const now = new Date();
      const rows = queryRows<{ id: string; next_renewal_at: Date | null; running: boolean }>(
        await m.query(
          `SELECT mc."id", mc."next_renewal_at",
                  EXISTS (SELECT 1 FROM "certificate_jobs" j WHERE j."managed_certificate_id" = mc."id" AND j."state" IN ('queued', 'issued')) AS "running"
             FROM "managed_certificates" mc
            WHERE mc."removed_at" IS NULL AND ($1::uuid IS NULL OR mc."issuing_ca_id" = $1) AND ($2::uuid IS NULL OR mc."agent_id" = $2)
              FOR UPDATE OF mc`,
          [issuingCaId, selector.agentId ?? null],
        ),
      );
      const due = rows.filter((r) => !r.running);
      if (due.length > 0) {
        await m.query(`UPDATE "managed_certificates" SET "next_renewal_at" = $2 WHERE "id" = ANY($1::uuid[])`, [due.map((r) => r.id), now]);
        await this.audit.record(
          m,
          ...due.map((r): AuditEntry => ({ actor, action: 'managed.renew-requested', subjectType: 'managed-certificate', subjectId: r.id, detail: { selector: { ...selector }, before: { nextRenewalAt: r.next_renewal_at }, after: { nextRenewalAt: now } } })),
        );
      }
      return { requested: due.length, alreadyRunning: rows.length - due.length };
    });
  }

  /** Stops managing (files on the host are left as they are); open jobs are cancelled. */
  async remove(idOrName: string, actor: string): Promise<void> {
    const row = await this.find(idOrName);
    await this.ds.transaction(async (m) => {
      await m.getRepository(CertificateJob).update({ managedCertificateId: row.id, state: In([...OPEN_JOB_STATES]) }, { state: 'cancelled', finishedAt: new Date(), error: 'managed certificate removed' });
      await m.getRepository(ManagedCertificate).update({ id: row.id }, { status: 'removed', removedAt: new Date(), nextRenewalAt: null });
      await this.audit.record(m, { actor, action: 'managed.removed', subjectType: 'managed-certificate', subjectId: row.id, detail: { before: { status: row.status, name: row.name }, after: { status: 'removed' } } });
    });
  }

  /**
   * After an agent's inventory report: a managed certificate whose file now holds a newer
   * certificate that certfleet did not issue (someone ran certbot by hand) is re-adopted: the
   * discovered certificate becomes the current one and renewal is planned from it, instead of
   * renewing a second time. Returns how many were re-adopted.
   */
  async reconcileWithInventory(agentId: string): Promise<number> {
    const managed = await this.ds.getRepository(ManagedCertificate).find({ where: { agentId, removedAt: IsNull() } });
    let readopted = 0;
    for (const mc of managed) {
      const paths = [...new Set(mc.targets.map(certificatePathOf))];
      const items = await this.ds.getRepository(InventoryItem).find({ where: { agentId, kind: 'certificate', path: In(paths) } });
      const leaves = items.filter((i) => i.fingerprintSha256 && i.notAfter && !(i.detail as { isCa?: boolean }).isCa);
      if (leaves.length === 0 || leaves.some((i) => i.fingerprintSha256 === mc.currentFingerprint)) continue;
      const ours = new Set(
        (await this.ds.getRepository(IssuedCertificate).find({ where: { managedCertificateId: mc.id }, select: { fingerprintSha256: true } })).map((c) => c.fingerprintSha256),
      );
      if (leaves.some((i) => ours.has(i.fingerprintSha256!))) continue; // our own new certificate; its job result settles it
      const newest = leaves.sort((a, b) => b.notAfter!.getTime() - a.notAfter!.getTime())[0];
      if (mc.notAfter && newest.notAfter!.getTime() <= mc.notAfter.getTime()) continue; // older than what we track: not a replacement
      const names = new Set([...((newest.detail as { dnsNames?: string[] }).dnsNames ?? []), ...((newest.detail as { ipAddresses?: string[] }).ipAddresses ?? [])]);
      if (![...mc.profile.dnsNames, ...mc.profile.ipAddresses].every((n) => names.has(n))) continue; // not a stand-in for this certificate
      await this.ds.transaction(async (m) => {
        const fresh = await m.getRepository(ManagedCertificate).findOneOrFail({ where: { id: mc.id } });
        if (fresh.currentFingerprint !== mc.currentFingerprint || fresh.removedAt) return;
        const nextRenewalAt = newest.notBefore ? this.renewalTimeFor(fresh, newest.notBefore, newest.notAfter!) : new Date();
        const after = { status: 'active' as const, currentSerial: newest.serial, currentFingerprint: newest.fingerprintSha256, notBefore: newest.notBefore, notAfter: newest.notAfter, nextRenewalAt, failureCount: 0, lastError: null };
        // A renewal that has not been signed yet is no longer needed.
        const cancelled = await m.getRepository(CertificateJob).find({ where: { managedCertificateId: mc.id, state: 'queued' } });
        if (cancelled.length) await m.getRepository(CertificateJob).update({ id: In(cancelled.map((j) => j.id)) }, { state: 'cancelled', error: 'replaced out of band; re-adopted', finishedAt: new Date() });
        await m.getRepository(ManagedCertificate).update({ id: mc.id }, after);
        await this.audit.record(m, {
          actor: 'system:discovery',
          action: 'managed.readopted',
          subjectType: 'managed-certificate',
          subjectId: mc.id,
          detail: {
            path: newest.path,
            issuer: newest.issuer,
            cancelledJobs: cancelled.map((j) => j.id),
            before: { status: fresh.status, serial: fresh.currentSerial, fingerprint: fresh.currentFingerprint, notAfter: fresh.notAfter },
            after: { status: 'active', serial: newest.serial, fingerprint: newest.fingerprintSha256, notAfter: newest.notAfter, nextRenewalAt },
          },
        });
        readopted++;
      });
    }
    return readopted;
  }

  async find(idOrName: string, m: EntityManager = this.ds.manager): Promise<ManagedCertificate> {
    const repo = m.getRepository(ManagedCertificate);
    const row = isUuid(idOrName)
      ? await repo.findOne({ where: { id: idOrName, removedAt: IsNull() } })
      : await repo.findOne({ where: { name: idOrName, removedAt: IsNull() } });
    if (!row) throw new NotFoundException(`no managed certificate "${idOrName}"`);
    return row;
  }

  private parse(body: Record<string, unknown>) {
    try {
      const name = String(body.name ?? '').trim();
      if (!name || name.length > 200) throw new ManagedInputError('name is required (at most 200 characters)');
      const profile = parseProfile(body.profile);
      const violations = checkProfile(profile, this.policy);
      if (violations.length) throw new ManagedInputError(`the profile breaks the issuance policy: ${violations.map((v) => `${v.code}: ${v.message}`).join('; ')}`);
      const reloadCommand = body.reloadCommand === undefined || body.reloadCommand === null ? '' : String(body.reloadCommand);
      return {
        name,
        profile,
        targets: parseTargets(body.targets),
        reloadCommand,
        reloadTimeoutSeconds: reloadTimeout(body.reloadTimeoutSeconds),
        validation: parseValidation(body.validation),
        renewBeforeDays: renewBeforeDays(body.renewBeforeDays),
      };
    } catch (err) {
      if (err instanceof ManagedInputError) throw new BadRequestException(err.message);
      throw err;
    }
  }

  private async agent(m: EntityManager, id: string): Promise<Agent> {
    const agent = isUuid(id) ? await m.getRepository(Agent).findOne({ where: { id } }) : await m.getRepository(Agent).findOne({ where: { hostname: id } });
    if (!agent) throw new NotFoundException(`no enrolled agent "${id}"`);
    if (agent.disabledAt) throw new BadRequestException(`agent ${agent.id} is disabled`);
    return agent;
  }

  /** "issuer": "acme:<name>" with a "challenge": the ACME issuer and the parsed challenge (TSIG secret sealed). */
  private async acmeIssuerOf(m: EntityManager, body: Record<string, unknown>): Promise<{ issuer: AcmeIssuer; challenge: AcmeChallengeSpec } | null> {
    if (typeof body.issuer !== 'string' || !body.issuer.startsWith('acme:')) {
      if (body.challenge !== undefined && body.challenge !== null) throw new BadRequestException('"challenge" is only for ACME issuers ("issuer": "acme:<name>")');
      return null;
    }
    if (!this.acmeIssuers) throw new BadRequestException('ACME issuers are not available on this server');
    const issuer = await this.acmeIssuers.find(body.issuer.slice('acme:'.length), m);
    try {
      return { issuer, challenge: parseAcmeChallenge(body.challenge, (secret) => this.acmeIssuers!.seal(secret), this.config.serverCommands) };
    } catch (err) {
      if (err instanceof AcmeChallengeInputError) throw new BadRequestException(err.message);
      throw err;
    }
  }

  private async assertNameFree(m: EntityManager, name: string): Promise<void> {
    if (await m.getRepository(ManagedCertificate).exists({ where: { name, removedAt: IsNull() } })) throw new ConflictException(`a managed certificate named "${name}" already exists`);
  }

  private auditable(row: ManagedCertificate, issuer: string, hostname: string) {
    return { name: row.name, agentId: row.agentId, hostname, issuer, profile: row.profile, targets: redactTargets(row.targets), reloadCommand: row.reloadCommand, validation: row.validation, renewBeforeDays: row.renewBeforeDays };
  }

  private async views(rows: ManagedCertificate[]): Promise<ManagedCertificateView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [agents, cas, acmeIssuers, jobs] = await Promise.all([
      this.ds.getRepository(Agent).find({ where: { id: In([...new Set(rows.map((r) => r.agentId))]) } }),
      this.ds.getRepository(IssuingCa).find({ select: { id: true, name: true } }),
      this.ds.getRepository(AcmeIssuer).find({ select: { id: true, name: true } }),
      this.ds.getRepository(CertificateJob).find({ where: { managedCertificateId: In(ids), state: In([...OPEN_JOB_STATES]) } }),
    ]);
    const host = new Map(agents.map((a) => [a.id, a.hostname]));
    const caName = new Map(cas.map((c) => [c.id, c.name]));
    const acmeName = new Map(acmeIssuers.map((c) => [c.id, `acme:${c.name}`]));
    const open = new Map(jobs.map((j) => [j.managedCertificateId, j]));
    return rows.map((r) => {
      const job = open.get(r.id);
      return {
        id: r.id,
        name: r.name,
        agentId: r.agentId,
        hostname: host.get(r.agentId) ?? null,
        issuer:
          r.issuerKind === 'acme'
            ? { kind: 'acme', issuingCaId: null, name: r.acmeIssuerId ? acmeName.get(r.acmeIssuerId) ?? null : null, acmeIssuerId: r.acmeIssuerId ?? null, challenge: r.acmeChallenge ? redactAcmeChallenge(r.acmeChallenge) : null }
            : { kind: 'internal', issuingCaId: r.issuingCaId, name: r.issuingCaId ? caName.get(r.issuingCaId) ?? null : null },
        profile: r.profile,
        targets: redactTargets(r.targets),
        reloadCommand: r.reloadCommand,
        reloadTimeoutSeconds: r.reloadTimeoutSeconds,
        validation: r.validation,
        renewBeforeDays: r.renewBeforeDays,
        status: r.status,
        currentSerial: r.currentSerial,
        currentFingerprint: r.currentFingerprint,
        notBefore: r.notBefore,
        notAfter: r.notAfter,
        nextRenewalAt: r.nextRenewalAt,
        failureCount: r.failureCount,
        lastError: r.lastError,
        adoptedFrom: r.adoptedFrom,
        openJob: job ? { id: job.id, state: job.state, attempt: job.attempt, createdAt: job.createdAt } : null,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
      };
    });
  }
}

function keyTypeOf(algorithm: string, size: number, curve: string): ProfileKeyType {
  if (algorithm === 'EC') {
    if (/384/.test(curve)) return 'ec-p384';
    return 'ec-p256';
  }
  if (algorithm === 'RSA') return size >= 4096 ? 'rsa-4096' : size >= 3072 ? 'rsa-3072' : 'rsa-2048';
  throw new BadRequestException(`cannot manage a ${algorithm} key; give "profile.keyType" explicitly`);
}

