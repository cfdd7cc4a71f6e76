import { BadRequestException, BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import {
  BASELINE_POLICY,
  compilePolicy,
  issuanceBlockers,
  parsePolicy,
  POLICY_PRESETS,
  type CompiledPolicy,
  type FleetPolicy,
  type IssuanceInput,
  type PolicyFinding,
  type Severity,
} from '@certfleet/policy';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { queryRows } from '../../database/query-rows';
import { AuditService } from '../audit/audit.service';
import { FleetPolicyRecord } from './fleet-policy.entity';
import { inventoryKeyUse, runPolicyPass, type PassSummary } from './policy-pass';

/** Session advisory lock: one policy pass at a time across replicas. */
const PASS_LOCK = 7310;
const MAX_FINDINGS = 10_000;

export interface ActivePolicy {
  policy: FleetPolicy;
  /** 'stored' (set by an administrator) or 'default' (built-in baseline). */
  source: 'stored' | 'default';
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface FindingsFilter {
  severity?: Severity;
  ruleId?: string;
  fingerprint?: string;
  limit?: number;
  offset?: number;
}

export interface FindingView {
  fingerprintSha256: string;
  subject: string;
  hosts: number;
  ruleId: string;
  rule: string;
  severity: Severity;
  blockIssuance: boolean;
  message: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/**
 * The fleet policy: which one applies, its findings over the inventory (recomputed by a pass when
 * the inventory or the policy changed), and the issuance check for managed certificates.
 */
@Injectable()
export class PolicyService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Policy');
  private timer?: NodeJS.Timeout;
  private lastInventoryMark = '';
  private running?: Promise<PassSummary | undefined>;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.policyPassSeconds > 0) this.schedule(1000);
  }

  beforeApplicationShutdown(): Promise<unknown> | undefined {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.running;
  }

  async active(m: EntityManager = this.ds.manager): Promise<ActivePolicy> {
    const row = await m.getRepository(FleetPolicyRecord).findOne({ where: { active: true } });
    if (!row) return { policy: BASELINE_POLICY, source: 'default', updatedAt: null, updatedBy: null };
    return { policy: row.document, source: 'stored', updatedAt: row.updatedAt, updatedBy: row.updatedBy };
  }

  /** Stores and activates a policy (JSON document, or `{ "preset": name }`), then recomputes findings. */
  async set(body: unknown, actor: string): Promise<{ policy: ActivePolicy; pass: PassSummary | undefined }> {
    const preset = typeof body === 'object' && body !== null && 'preset' in body ? (body as { preset: unknown }).preset : undefined;
    let policy: FleetPolicy;
    if (preset !== undefined) {
      const known = typeof preset === 'string' ? POLICY_PRESETS[preset] : undefined;
      if (!known) throw new BadRequestException(`unknown preset ${JSON.stringify(preset)} (known: ${Object.keys(POLICY_PRESETS).join(', ')})`);
      policy = structuredClone(known) as FleetPolicy;
    } else {
      const parsed = parsePolicy(body);
      if (!parsed.ok) throw new BadRequestException({ message: 'invalid policy', errors: parsed.errors });
      policy = parsed.policy;
    }
    const before = await this.active();
    await this.ds.transaction(async (m) => {
      await m.query('UPDATE fleet_policies SET active = false WHERE active');
      await m.query(
        `INSERT INTO fleet_policies (name, document, active, updated_by, updated_at) VALUES ($1, $2, true, $3, now())
         ON CONFLICT (name) DO UPDATE SET document = EXCLUDED.document, active = true, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
        [policy.name, JSON.stringify(policy), actor],
      );
      await this.audit.record(m, { actor, action: 'policy.set', subjectType: 'policy', subjectId: policy.name, detail: { before: before.policy.name, after: policy } });
    });
    return { policy: await this.active(), pass: await this.runPass() };
  }

  async findings(filter: FindingsFilter = {}): Promise<{ total: number; items: FindingView[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.severity) where.push(`f.severity = $${params.push(filter.severity)}`);
    if (filter.ruleId) where.push(`f.rule_id = $${params.push(filter.ruleId)}`);
    if (filter.fingerprint) where.push(`f.fingerprint_sha256 = $${params.push(filter.fingerprint.replace(/:/g, '').toLowerCase())}`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = queryRows<{ total: string }>(await this.ds.query(`SELECT count(*)::text AS total FROM policy_findings f ${clause}`, params));
    const limit = Math.min(Math.max(filter.limit ?? 1000, 1), MAX_FINDINGS);
    const rows = queryRows<Record<string, unknown>>(
      await this.ds.query(
        `SELECT f.*, s.subject, s.hosts FROM policy_findings f
         LEFT JOIN LATERAL (SELECT min(i.subject) AS subject, count(DISTINCT i.agent_id)::int AS hosts FROM certificate_inventory i WHERE i.fingerprint_sha256 = f.fingerprint_sha256) s ON true
         ${clause}
         ORDER BY CASE f.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, f.fingerprint_sha256, f.rule_id
         LIMIT ${limit} OFFSET ${Math.max(filter.offset ?? 0, 0)}`,
        params,
      ),
    );
    return {
      total: Number(total),
      items: rows.map((r) => ({
        fingerprintSha256: r.fingerprint_sha256 as string,
        subject: (r.subject as string | null) ?? '',
        hosts: Number(r.hosts ?? 0),
        ruleId: r.rule_id as string,
        rule: r.rule as string,
        severity: r.severity as Severity,
        blockIssuance: r.block_issuance as boolean,
        message: r.message as string,
        firstSeenAt: new Date(r.first_seen_at as string),
        lastSeenAt: new Date(r.last_seen_at as string),
      })),
    };
  }

  /**
   * Recomputes every finding now; at most one pass at a time on this replica, and across replicas
   * (advisory lock). Undefined when another replica holds the lock.
   */
  runPass(): Promise<PassSummary | undefined> {
    const previous = this.running ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.lockedPass());
    this.running = next;
    void next.finally(() => this.running === next && (this.running = undefined)).catch(() => undefined);
    return next;
  }

  /**
   * Issuance check for a managed certificate: the findings of blocking rules of the active policy
   * for the certificate the profile would produce. Empty: allowed.
   */
  async issuanceBlockers(input: IssuanceInput): Promise<PolicyFinding[]> {
    const policy = compilePolicy((await this.active()).policy);
    const keyUse = input.publicKeySha256 ? await inventoryKeyUse(this.ds, input.publicKeySha256) : undefined;
    return issuanceBlockers(policy, input, { keyUse });
  }

  /**
   * issuanceBlockers for a batch, inside the caller's transaction (embedded PGlite has one
   * connection): the policy is read once, key use only when a blocking key-reuse rule needs it.
   */
  async issuanceBlockersMany(m: EntityManager, inputs: IssuanceInput[]): Promise<PolicyFinding[][]> {
    const { policy } = await this.active(m);
    const compiled = compilePolicy(policy);
    const keyReuseBlocks = policy.rules.some((r) => r.type === 'key-reuse' && r.blockIssuance);
    const out: PolicyFinding[][] = [];
    for (const input of inputs) {
      const keyUse = keyReuseBlocks && input.publicKeySha256 ? await inventoryKeyUse(m, input.publicKeySha256) : undefined;
      out.push(issuanceBlockers(compiled, input, { keyUse }));
    }
    return out;
  }

  /** Current findings in the shape of alerts' PolicyFindingsSource (warning and critical only). */
  async currentFindings(): Promise<{ certificateKey: string; rule: string; severity: 'warning' | 'critical'; message: string }[]> {
    const rows = queryRows<{ fingerprint_sha256: string; rule_id: string; severity: 'warning' | 'critical'; message: string }>(
      await this.ds.query(`SELECT fingerprint_sha256, rule_id, severity, message FROM policy_findings WHERE severity IN ('warning', 'critical') ORDER BY 1, 2`),
    );
    return rows.map((r) => ({ certificateKey: `fp:${r.fingerprint_sha256}`, rule: r.rule_id, severity: r.severity, message: r.message }));
  }

  private async lockedPass(): Promise<PassSummary | undefined> {
    // Read before taking the runner: PGlite has one connection, which the runner holds until released.
    const compiled: CompiledPolicy = compilePolicy((await this.active()).policy);
    const runner = this.ds.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = queryRows<{ locked: boolean }>(await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [PASS_LOCK]));
      if (!locked) return undefined;
      try {
        return await runPolicyPass(runner.manager, compiled);
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [PASS_LOCK]);
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * Background: a pass whenever the inventory or the policy changed since the last one. A revocation
   * counts (it takes an ACME certificate out of the inventory): every one publishes its CA's CRL.
   */
  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const [mark] = queryRows<{ mark: string }>(
        await this.ds.query(
          `SELECT concat_ws('/', (SELECT count(*) FROM inventory_items WHERE kind = 'certificate'), (SELECT max(updated_at) FROM inventory_items),
                  (SELECT count(*) FROM acme_order_certificates WHERE replaced_at IS NULL), (SELECT max(issued_at) FROM acme_order_certificates),
                  (SELECT sum(last_revocation_seq) FROM issuing_ca_crls), (SELECT max(updated_at) FROM fleet_policies)) AS mark`,
        ),
      );
      if (mark.mark !== this.lastInventoryMark) {
        const summary = await this.runPass();
        if (summary) this.lastInventoryMark = mark.mark;
      }
    } catch (error) {
      this.logger.warn(`policy pass failed: ${(error as Error).message}`);
    } finally {
      if (this.timer) this.schedule(this.config.policyPassSeconds * 1000);
    }
  }
}
