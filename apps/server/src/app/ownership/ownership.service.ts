import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/query-rows';
import { Agent } from '../agents/agent.entity';
import { AuditService } from '../audit/audit.service';
import { CertificateOwner } from './certificate-owner.entity';
import { CompiledRule, compileRules, EffectiveOwner, OwnerFields, OwnershipSubject, resolveOwner } from './owner-resolution';
import { parseLabelKeys, parseLabels, parseOwnerFields, parseRule } from './ownership-input';
import { OwnershipRule } from './ownership-rule.entity';

/** Everything needed to resolve owners during one evaluation pass (loaded once per pass). */
export interface OwnershipContext {
  hand: Map<string, OwnerFields>;
  rules: CompiledRule[];
}

export interface OwnerView extends OwnerFields {
  subjectKey: string;
  updatedBy: string;
  updatedAt: Date;
}

const FINGERPRINT = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Owners and tags of certificates, by hand and by rules; agent labels the rules match on. */
@Injectable()
export class OwnershipService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /** Hand assignments and compiled rules; `m` when called inside a transaction. */
  async context(m: EntityManager = this.ds.manager): Promise<OwnershipContext> {
    const owners = await m.getRepository(CertificateOwner).find();
    const rules = await m.getRepository(OwnershipRule).find();
    return { hand: new Map(owners.map((o) => [o.subjectKey, o])), rules: compileRules(rules) };
  }

  resolve(ctx: OwnershipContext, subjectKey: string, subject: OwnershipSubject): EffectiveOwner {
    return resolveOwner(subject, ctx.hand.get(subjectKey), ctx.rules);
  }

  /**
   * `fp:<sha256>` for a SHA-256 fingerprint (colons and case ignored) that is in the inventory,
   * `managed:<id>` for a managed certificate id or name.
   */
  async subjectKeyFor(certificate: string): Promise<string> {
    const fp = certificate.replace(/:/g, '').toLowerCase();
    if (FINGERPRINT.test(fp)) {
      const [hit] = queryRows(await this.ds.query(`SELECT 1 FROM "certificate_inventory" WHERE "fingerprint_sha256" = $1 LIMIT 1`, [fp]));
      const [managed] = queryRows<{ id: string }>(await this.ds.query(`SELECT "id" FROM "managed_certificates" WHERE "current_fingerprint" = $1 AND "removed_at" IS NULL LIMIT 1`, [fp]));
      if (managed) return `managed:${managed.id}`;
      if (!hit) throw new NotFoundException(`no certificate with fingerprint ${fp} in the inventory`);
      return `fp:${fp}`;
    }
    const [m] = queryRows<{ id: string }>(
      await this.ds.query(`SELECT "id" FROM "managed_certificates" WHERE "removed_at" IS NULL AND (${UUID.test(certificate) ? `"id" = $1::uuid OR ` : ''}"name" = $1)`, [certificate]),
    );
    if (!m) throw new NotFoundException(`"${certificate}" is neither a SHA-256 fingerprint nor a managed certificate id or name`);
    return `managed:${m.id}`;
  }

  async list(): Promise<OwnerView[]> {
    return this.ds.getRepository(CertificateOwner).find({ order: { subjectKey: 'ASC' } });
  }

  async set(certificate: string, body: Record<string, unknown>, actor: string): Promise<OwnerView> {
    const fields = parseOwnerFields(body ?? {});
    const subjectKey = await this.subjectKeyFor(certificate);
    return this.ds.transaction(async (m) => {
      const row = await m.getRepository(CertificateOwner).save({ subjectKey, ...fields, updatedBy: actor, updatedAt: new Date() });
      await this.audit.record(m, { actor, action: 'owner.set', subjectType: 'certificate', subjectId: subjectKey, detail: { ...fields } });
      return row;
    });
  }

  async remove(certificate: string, actor: string): Promise<void> {
    const subjectKey = await this.subjectKeyFor(certificate);
    await this.ds.transaction(async (m) => {
      const { affected } = await m.getRepository(CertificateOwner).delete({ subjectKey });
      if (!affected) throw new NotFoundException(`no owner assigned by hand to ${subjectKey}`);
      await this.audit.record(m, { actor, action: 'owner.removed', subjectType: 'certificate', subjectId: subjectKey });
    });
  }

  /** The owner the alerts of this certificate go to, with hand assignment and rules applied. */
  async effective(certificate: string): Promise<EffectiveOwner & { subjectKey: string }> {
    const subjectKey = await this.subjectKeyFor(certificate);
    const ctx = await this.context();
    const subject = await this.subjectFacts(subjectKey);
    return { subjectKey, ...this.resolve(ctx, subjectKey, subject) };
  }

  /** Names and locations of one certificate, as the evaluation pass sees them. */
  private async subjectFacts(subjectKey: string): Promise<OwnershipSubject> {
    const [kind, id] = subjectKey.split(':');
    if (kind === 'fp') {
      const rows = queryRows<{ path: string; labels: Record<string, string>; dns: string[] | null; subject: string | null }>(
        await this.ds.query(
          `SELECT i."path", i."labels", i."detail"->'dnsNames' AS "dns", i."subject" FROM "certificate_inventory" i WHERE i."fingerprint_sha256" = $1`,
          [id],
        ),
      );
      return { names: [...new Set(rows.flatMap((r) => [...(r.dns ?? []), ...commonName(r.subject)]))], locations: rows.map((r) => ({ path: r.path, agentLabels: r.labels })) };
    }
    const [m] = queryRows<{ profile: { dnsNames?: string[]; commonName?: string }; targets: Record<string, string>[]; labels: Record<string, string> }>(
      await this.ds.query(`SELECT mc."profile", mc."targets", a."labels" FROM "managed_certificates" mc JOIN "agents" a ON a."id" = mc."agent_id" WHERE mc."id" = $1`, [id]),
    );
    return managedSubject(m.profile, m.targets, m.labels);
  }

  async listRules(): Promise<OwnershipRule[]> {
    return this.ds.getRepository(OwnershipRule).find({ order: { priority: 'ASC', name: 'ASC' } });
  }

  async addRule(body: Record<string, unknown>, actor: string): Promise<OwnershipRule> {
    const rule = parseRule(body ?? {});
    return this.ds.transaction(async (m) => {
      if (await m.getRepository(OwnershipRule).exists({ where: { name: rule.name } })) throw new BadRequestException(`a rule named "${rule.name}" exists already`);
      const saved = await m.getRepository(OwnershipRule).save(rule);
      await this.audit.record(m, { actor, action: 'ownership-rule.added', subjectType: 'ownership-rule', subjectId: saved.id, detail: { name: rule.name } });
      return saved;
    });
  }

  async removeRule(idOrName: string, actor: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const repo = m.getRepository(OwnershipRule);
      const rule = (UUID.test(idOrName) ? await repo.findOneBy({ id: idOrName }) : null) ?? (await repo.findOneBy({ name: idOrName }));
      if (!rule) throw new NotFoundException(`no ownership rule "${idOrName}"`);
      await repo.delete({ id: rule.id });
      await this.audit.record(m, { actor, action: 'ownership-rule.removed', subjectType: 'ownership-rule', subjectId: rule.id, detail: { name: rule.name } });
    });
  }

  /** Sets and removes labels of one agent (id or hostname); returns the labels after. */
  async setAgentLabels(agent: string, body: Record<string, unknown>, actor: string): Promise<{ id: string; hostname: string; labels: Record<string, string> }> {
    const set = parseLabels(body?.set, 'set');
    const remove = parseLabelKeys(body?.remove);
    if (!Object.keys(set).length && !remove.length) throw new BadRequestException('give labels to set or remove');
    return this.ds.transaction(async (m) => {
      const rows = await m.getRepository(Agent).find({ where: UUID.test(agent) ? [{ id: agent }, { hostname: agent }] : [{ hostname: agent }] });
      if (rows.length === 0) throw new NotFoundException(`no agent "${agent}"`);
      if (rows.length > 1) throw new BadRequestException(`"${agent}" names ${rows.length} agents: use the id`);
      const [a] = rows;
      const labels = { ...(a.labels ?? {}) };
      for (const k of remove) delete labels[k];
      Object.assign(labels, set);
      if (Object.keys(labels).length > 64) throw new BadRequestException('an agent carries at most 64 labels');
      await m.getRepository(Agent).update({ id: a.id }, { labels });
      await this.audit.record(m, { actor, action: 'agent.labels', subjectType: 'agent', subjectId: a.id, detail: { set, remove } });
      return { id: a.id, hostname: a.hostname, labels };
    });
  }
}

/** The CN of an RFC 2253/OpenSSL-style subject line ("CN=x" or "CN = x"), as a name rules can match. */
export function commonName(subject: string | null): string[] {
  const m = subject ? /(?:^|[\n,/])\s*CN\s*=\s*([^,\n/]+)/.exec(subject) : null;
  return m ? [m[1].trim()] : [];
}

export function managedSubject(profile: { dnsNames?: string[]; commonName?: string }, targets: Record<string, string>[], labels: Record<string, string>): OwnershipSubject {
  const paths = targets.flatMap((t) => [t.certPath, t.path].filter((p): p is string => typeof p === 'string'));
  return {
    names: [...new Set([...(profile.dnsNames ?? []), ...(profile.commonName ? [profile.commonName] : [])])],
    locations: (paths.length ? paths : ['']).map((path) => ({ path, agentLabels: labels ?? {} })),
  };
}
