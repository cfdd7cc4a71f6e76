import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, EntityManager } from 'typeorm';
import { isRevocationReason, signIntermediate, type RevocationReason } from '@certfleet/pki';
import { isUuid } from '../../common/ids';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { AuditService } from '../audit/audit.service';
import { IssuingCa } from '../issuing-cas/issuing-ca.entity';
import { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import { REVOKE_REASONS, RevocationService } from '../revocation/revocation.service';
import { BreakglassCampaign } from './breakglass-campaign.entity';
import { CampaignSelector, inventoryConditions, parseSelector } from './campaign-selector';

export interface PlannedManaged {
  agentId: string;
  hostname: string;
  managedCertificateId: string;
  name: string;
  serial: string;
}

export interface PlannedManual {
  agentId: string;
  hostname: string;
  path: string;
  entry: string;
  serial: string | null;
  subject: string | null;
  /** True when a certfleet CA issued it: it is revoked, but someone must replace it on the host. */
  issuedByCertfleet: boolean;
}

export interface CampaignPlan {
  selector: CampaignSelector;
  compromisedCa: { id: string; name: string } | null;
  /** Certificates certfleet issued that the campaign revokes (all of a compromised CA's). */
  toRevoke: number;
  replace: PlannedManaged[];
  manual: PlannedManual[];
  /**
   * Certificates of the compromised CA held by ACME clients (certbot, lego...) and not found on any
   * host. They are revoked; ARI tells their clients to renew at once, and the CA's ACME directory
   * issues from the replacement at the same URL, with the same accounts.
   */
  acme: PlannedAcme[];
  /** Per host: what happens there. */
  hosts: Array<{ hostname: string; agentId: string; replace: number; manual: number }>;
}

export interface PlannedAcme {
  serial: string;
  identifiers: string[];
  acmeAccountId: string;
  acmeOrderId: string;
}

export interface RunOptions {
  confirm?: boolean;
  reason?: string;
  /** Name of the replacement issuing CA (compromised-CA campaigns); default "<old name>-r<N>". */
  newCaName?: string;
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 1000;

/**
 * Break-glass campaigns: select certificates across the inventory, show what would happen (plan),
 * then (run) rotate a compromised issuing CA, revoke what certfleet issued, and replace every
 * managed holder with bounded concurrency ahead of ordinary renewals (CampaignWorker tracks it).
 */
@Injectable()
export class BreakglassService {
  private readonly logger = new Logger('Breakglass');
  /** Set by CampaignWorker: run it now rather than at its next tick. */
  onStarted: () => void = () => undefined;

  constructor(
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(IssuingCasService) private readonly cas: IssuingCasService,
    @Inject(RevocationService) private readonly revocations: RevocationService,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async plan(body: unknown, m: EntityManager = this.ds.manager): Promise<CampaignPlan> {
    const selector = parseSelector(body);
    const ca = selector.issuer ? await this.cas.find(selector.issuer, m) : null;
    const caKeyId = ca?.certificatePem ? this.keyIdOf(ca) : null;
    const onlyIssuer = ca !== null && Object.keys(selector).length === 1;

    const params: unknown[] = [];
    const conditions = inventoryConditions(selector, caKeyId, params).join(' AND ');
    // Managed holders: the managed certificate's current certificate is selected.
    const managedParams = onlyIssuer ? [ca.id] : [...params];
    const managed = queryRows<{ agent_id: string; hostname: string; id: string; name: string; current_serial: string }>(
      await m.query(
        onlyIssuer
          ? `SELECT mc."agent_id", a."hostname", mc."id", mc."name", mc."current_serial" FROM "managed_certificates" mc JOIN "agents" a ON a."id" = mc."agent_id"
              WHERE mc."removed_at" IS NULL AND mc."current_serial" IS NOT NULL
                AND EXISTS (SELECT 1 FROM "issued_certificates" ic WHERE ic."serial" = mc."current_serial" AND ic."issuing_ca_id" = $1)
              ORDER BY a."hostname", mc."name"`
          : `SELECT mc."agent_id", a."hostname", mc."id", mc."name", mc."current_serial" FROM "managed_certificates" mc JOIN "agents" a ON a."id" = mc."agent_id"
              WHERE mc."removed_at" IS NULL AND mc."current_serial" IS NOT NULL
                AND EXISTS (SELECT 1 FROM "inventory_items" i WHERE i."fingerprint_sha256" = mc."current_fingerprint" AND ${conditions})
              ORDER BY a."hostname", mc."name"`,
        managedParams,
      ),
    );
    // Found on hosts where no managed certificate holds it: someone must act there.
    const manual = queryRows<{ agent_id: string; hostname: string; path: string; entry: string; serial: string | null; subject: string | null; ours: boolean }>(
      await m.query(
        `SELECT i."agent_id", a."hostname", i."path", i."entry", i."serial", i."subject",
                EXISTS (SELECT 1 FROM "issued_certificates" ic WHERE ic."fingerprint_sha256" = i."fingerprint_sha256") AS "ours"
           FROM "inventory_items" i JOIN "agents" a ON a."id" = i."agent_id"
          WHERE ${conditions}
            AND NOT EXISTS (SELECT 1 FROM "managed_certificates" mc WHERE mc."agent_id" = i."agent_id" AND mc."current_fingerprint" = i."fingerprint_sha256" AND mc."removed_at" IS NULL)
          ORDER BY a."hostname", i."path", i."entry"`,
        params,
      ),
    );
    const toRevoke = await this.serialsToRevoke(m, selector, ca, managed.map((r) => r.current_serial), conditions, params);
    // What the compromised CA issued through ACME and still stands: the 'acme' source of certificate_inventory, unexpired.
    const acme = ca
      ? queryRows<{ serial: string; identifiers: Array<{ value: string }>; account_id: string; order_id: string }>(
          await m.query(
            `SELECT i."serial", o."identifiers", o."account_id", o."id" AS "order_id"
               FROM "certificate_inventory" i
               JOIN "acme_orders" o ON o."id" = i."location_id"
              WHERE i."source" = 'acme' AND o."issuing_ca_id" = $1 AND i."not_after" > now()
              ORDER BY i."first_seen_at", i."serial"`,
            [ca.id],
          ),
        )
      : [];
    const hosts = new Map<string, { hostname: string; agentId: string; replace: number; manual: number }>();
    const host = (agentId: string, hostname: string) => hosts.get(agentId) ?? hosts.set(agentId, { hostname, agentId, replace: 0, manual: 0 }).get(agentId)!;
    for (const r of managed) host(r.agent_id, r.hostname).replace++;
    for (const r of manual) host(r.agent_id, r.hostname).manual++;
    return {
      selector,
      compromisedCa: ca ? { id: ca.id, name: ca.name } : null,
      toRevoke: toRevoke.length,
      replace: managed.map((r) => ({ agentId: r.agent_id, hostname: r.hostname, managedCertificateId: r.id, name: r.name, serial: r.current_serial })),
      manual: manual.map((r) => ({ agentId: r.agent_id, hostname: r.hostname, path: r.path, entry: r.entry, serial: r.serial, subject: r.subject, issuedByCertfleet: r.ours })),
      acme: acme.map((r) => ({ serial: r.serial, identifiers: r.identifiers.map((i) => i.value), acmeAccountId: r.account_id, acmeOrderId: r.order_id })),
      hosts: [...hosts.values()].sort((a, b) => a.hostname.localeCompare(b.hostname)),
    };
  }

  /**
   * Starts a campaign. A compromised issuing CA gets a replacement first: signed at once when the
   * root's key is online (the lab root quick-start wrote), otherwise pending for the offline root;
   * the campaign waits for its import, then goes on by itself.
   */
  async run(body: unknown, options: RunOptions, actor: string): Promise<BreakglassCampaign> {
    if (options.confirm !== true) throw new BadRequestException('a break-glass run revokes certificates and replaces them across the fleet: confirm it explicitly (--confirm / "confirm": true)');
    const selector = parseSelector(body);
    const reason = this.reason(options.reason, selector);
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100_000) throw new BadRequestException('concurrency must be a whole number from 1 to 100,000');
    const compromised = selector.issuer ? await this.cas.find(selector.issuer) : null;
    if (compromised && compromised.status === 'pending') throw new BadRequestException(`issuing CA "${compromised.name}" has no certificate yet: nothing to rotate`);
    const open = await this.ds.getRepository(BreakglassCampaign).findOne({ where: [{ status: 'running' }, { status: 'waiting-for-ca' }] });
    if (compromised && open?.compromisedCaId === compromised.id) throw new ConflictException(`campaign ${open.id} is already ${open.status} for issuing CA "${compromised.name}"`);

    let replacementCaId: string | null = null;
    if (compromised) {
      const name = options.newCaName ?? (await this.replacementName(compromised.name));
      const pending = await this.cas.create(name, 'P-256', actor);
      replacementCaId = pending.id;
      const root = this.onlineRootFor(compromised);
      if (root) {
        const certificatePem = await signIntermediate(root, pending.csrPem!);
        await this.cas.importCertificate(pending.id, certificatePem, compromised.chainPem + compromised.rootPem, actor);
      }
    }
    const campaign = await this.ds.transaction(async (m) => {
      const saved = await m.getRepository(BreakglassCampaign).save({
        selector,
        reason,
        status: 'waiting-for-ca',
        concurrency,
        compromisedCaId: compromised?.id ?? null,
        replacementCaId,
        revokedCount: 0,
        createdBy: actor,
        startedAt: null,
        completedAt: null,
      });
      await this.audit.record(m, { actor, action: 'breakglass.created', subjectType: 'breakglass-campaign', subjectId: saved.id, detail: { selector: { ...selector }, reason, concurrency, compromisedCaId: saved.compromisedCaId, replacementCaId } });
      return saved;
    });
    if (!replacementCaId || (await this.ds.getRepository(IssuingCa).findOneByOrFail({ id: replacementCaId })).status === 'active') {
      await this.start(campaign.id, actor);
    }
    this.onStarted();
    return this.ds.getRepository(BreakglassCampaign).findOneByOrFail({ id: campaign.id });
  }

  /**
   * Revokes and sets up the replacements (once the replacement CA, if any, is active). Idempotent:
   * only a campaign still waiting starts, under its row lock.
   */
  async start(campaignId: string, actor: string): Promise<void> {
    const revokeSerials = await this.ds.transaction(async (m) => {
      const campaign = await m.getRepository(BreakglassCampaign).findOne({ where: { id: campaignId }, lock: { mode: 'pessimistic_write' } });
      if (!campaign || campaign.status !== 'waiting-for-ca') return null;
      const plan = await this.plan(campaign.selector, m);
      if (campaign.compromisedCaId) {
        // The compromised CA signs nothing more; its certificates and its ACME directory move to the replacement.
        await m.query(`UPDATE "issuing_cas" SET "status" = 'revoked', "revoked_at" = now(), "revocation_reason" = $2, "superseded_by_id" = $3 WHERE "id" = $1`, [campaign.compromisedCaId, campaign.reason, campaign.replacementCaId]);
        await m.query(`UPDATE "managed_certificates" SET "issuing_ca_id" = $2, "updated_at" = now() WHERE "issuing_ca_id" = $1 AND "removed_at" IS NULL`, [campaign.compromisedCaId, campaign.replacementCaId]);
        await this.audit.record(m, { actor, action: 'issuing-ca.revoked', subjectType: 'issuing-ca', subjectId: campaign.compromisedCaId, detail: { reason: campaign.reason, campaignId, replacementCaId: campaign.replacementCaId } });
      }
      const rows = [
        ...plan.replace.map((r) => [r.agentId, r.hostname, r.managedCertificateId, r.name, r.serial, 'pending']),
        ...plan.manual.map((r) => [r.agentId, r.hostname, null, r.entry ? `${r.path} (${r.entry})` : r.path, r.serial, 'manual']),
      ];
      if (rows.length) {
        await m.query(
          `INSERT INTO "breakglass_items" ("campaign_id", "seq", "agent_id", "hostname", "managed_certificate_id", "location", "old_serial", "state")
           SELECT $1, v."seq", v."agent_id", v."hostname", v."managed_id", v."location", v."serial", v."state"
             FROM unnest($2::int[], $3::uuid[], $4::varchar[], $5::uuid[], $6::varchar[], $7::varchar[], $8::varchar[]) AS v("seq", "agent_id", "hostname", "managed_id", "location", "serial", "state")`,
          [campaignId, rows.map((_, i) => i + 1), ...[0, 1, 2, 3, 4, 5].map((c) => rows.map((r) => r[c]))],
        );
      }
      const params: unknown[] = [];
      const conditions = inventoryConditions(campaign.selector, null, params).join(' AND ');
      const compromised = campaign.compromisedCaId ? await m.getRepository(IssuingCa).findOneByOrFail({ id: campaign.compromisedCaId }) : null;
      const serials = await this.serialsToRevoke(m, campaign.selector, compromised, plan.replace.map((r) => r.serial), conditions, params);
      await m.update(BreakglassCampaign, { id: campaignId }, { status: 'running', startedAt: new Date(), revokedCount: serials.length });
      await this.audit.record(m, { actor, action: 'breakglass.started', subjectType: 'breakglass-campaign', subjectId: campaignId, detail: { replace: plan.replace.length, manual: plan.manual.length, revoke: serials.length, hosts: plan.hosts.length } });
      return serials;
    });
    if (revokeSerials === null) return;
    const campaign = await this.ds.getRepository(BreakglassCampaign).findOneByOrFail({ id: campaignId });
    // In chunks: one transaction and one CRL per chunk, whatever the size of the campaign.
    for (let i = 0; i < revokeSerials.length; i += 5000) {
      await this.revocations.revokeSerials(revokeSerials.slice(i, i + 5000), campaign.reason as RevocationReason, actor, { context: { campaignId } });
    }
    this.logger.warn(`break-glass campaign ${campaignId} started: ${revokeSerials.length} certificate(s) revoked`);
  }

  /** Serials certfleet issued that the campaign revokes (not yet revoked, not expired). */
  private async serialsToRevoke(m: EntityManager, selector: CampaignSelector, ca: IssuingCa | null, managedSerials: string[], conditions: string, params: unknown[]): Promise<string[]> {
    const onlyIssuer = ca !== null && Object.keys(selector).length === 1;
    const n = params.length;
    const rows = queryRows<{ serial: string }>(
      await m.query(
        onlyIssuer
          ? `SELECT "serial" FROM "issued_certificates" WHERE "issuing_ca_id" = $1 AND "revoked_at" IS NULL AND "not_after" > now()`
          : `SELECT ic."serial" FROM "issued_certificates" ic
              WHERE ic."revoked_at" IS NULL AND ic."not_after" > now()
                AND (ic."serial" = ANY($${n + 1}::varchar[])
                     OR EXISTS (SELECT 1 FROM "inventory_items" i WHERE i."fingerprint_sha256" = ic."fingerprint_sha256" AND ${conditions}))`,
        onlyIssuer ? [ca.id] : [...params, managedSerials],
      ),
    );
    return rows.map((r) => r.serial);
  }

  private reason(value: string | undefined, selector: CampaignSelector): RevocationReason {
    const reason = value ?? (selector.issuer ? 'caCompromise' : 'keyCompromise');
    if (!isRevocationReason(reason) || !REVOKE_REASONS.includes(reason)) throw new BadRequestException(`reason must be one of ${REVOKE_REASONS.join(', ')}`);
    return reason;
  }

  private async replacementName(old: string): Promise<string> {
    for (let i = 1; ; i++) {
      const name = `${old.slice(0, 90)}-r${i}`;
      if (!(await this.ds.getRepository(IssuingCa).exists({ where: { name } }))) return name;
    }
  }

  /** The root's key when it is online here: a lab root that quick-start wrote into the data dir. */
  private onlineRootFor(ca: IssuingCa): { certificatePem: string; privateKeyPem: string } | null {
    const dir = join(this.config.dataDir, 'lab-roots');
    if (!ca.rootPem || !existsSync(dir)) return null;
    const wanted = new X509Certificate(ca.rootPem).fingerprint256;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.root.pem'))) {
      const certificatePem = readFileSync(join(dir, file), 'utf8');
      const keyFile = join(dir, file.replace(/\.root\.pem$/, '.root-key.pem'));
      if (new X509Certificate(certificatePem).fingerprint256 === wanted && existsSync(keyFile)) return { certificatePem, privateKeyPem: readFileSync(keyFile, 'utf8') };
    }
    return null;
  }

  /** The key identifier leaves of this CA carry in their AKI (the CA's SKI), lowercase hex. */
  private keyIdOf(ca: IssuingCa): string | null {
    const loaded = this.cas.loadedCa(ca);
    return loaded instanceof Error ? null : loaded.subjectKeyIdentifier.toString('hex');
  }

  campaignId(id: string): string {
    if (!isUuid(id)) throw new NotFoundException(`no break-glass campaign ${id}`);
    return id;
  }
}
