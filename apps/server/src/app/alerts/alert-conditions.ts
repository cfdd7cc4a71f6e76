import { EntityManager } from 'typeorm';
import { queryRows } from '../../database/query-rows';
import { CertificateLocation, OwnershipSubject } from '../ownership/owner-resolution';
import { commonName, managedSubject, OwnershipContext, OwnershipService } from '../ownership/ownership.service';
import { AlertCondition } from './alert-transition';
import { expiryPhrase, expiryStage, thresholdsFor } from './expiry-stage';
import { PolicyFinding } from './policy-findings';

const DAY_MS = 86_400_000;
const MAX_LOCATIONS_SHOWN = 20;

export interface ConditionInputs {
  now: Date;
  defaults: number[];
  byTag: Map<string, number[]>;
  byManaged: Map<string, number[]>;
  agentOfflineMinutes: number;
  failuresBeforeFailing: number;
  findings: PolicyFinding[];
}

interface InventoryRow {
  fp: string;
  not_after: Date | string;
  path: string;
  subject: string | null;
  dns: string[] | null;
  labels: Record<string, string>;
  hostname: string;
}

interface Located {
  subject: OwnershipSubject;
  label: string;
  where: { hostname: string; path: string }[];
  notAfter: Date;
}

/**
 * Finds every alert condition that holds now, each a set-based query: certificates inside their
 * largest threshold (discovered ones by fingerprint, skipping copies of managed certificates, which
 * are alerted as managed), agents offline, renewals failing, revoked certificates still installed,
 * managed certificates whose current certificate's issuing CA was revoked or expired (its chain no longer validates),
 * and the policy findings given. Owners (hand + rules) are resolved for the subjects found only.
 */
export class AlertConditions {
  constructor(
    private readonly m: EntityManager,
    private readonly ownership: OwnershipService,
    private readonly owners: OwnershipContext,
    private readonly input: ConditionInputs,
  ) {}

  async all(): Promise<AlertCondition[]> {
    return [
      ...(await this.expiry()),
      ...(await this.agentsOffline()),
      ...(await this.renewalFailing()),
      ...(await this.revokedInstalled()),
      ...(await this.chainInvalid()),
      ...(await this.policyViolations()),
    ];
  }

  private horizon(): Date {
    const all = [this.input.defaults, ...this.input.byTag.values(), ...this.input.byManaged.values()];
    return new Date(this.input.now.getTime() + Math.max(...all.map((d) => d[0] ?? 0)) * DAY_MS);
  }

  private condition(kind: string, subjectKey: string, subject: OwnershipSubject, c: Omit<AlertCondition, 'kind' | 'subjectKey' | 'ownerTeam' | 'ownerEmails' | 'ownerChannels' | 'tags'>): AlertCondition {
    const owner = this.ownership.resolve(this.owners, subjectKey, subject);
    return { kind, subjectKey, ...c, ownerTeam: owner.team, ownerEmails: owner.emails, ownerChannels: owner.channels, tags: owner.tags };
  }

  private async expiry(): Promise<AlertCondition[]> {
    const { now } = this.input;
    const out: AlertCondition[] = [];
    // Self-signed CA certificates are trust anchors in bundles (e.g. /etc/ssl/certs), not served certificates.
    // Copies of managed certificates are dropped here rather than in SQL: NOT EXISTS let the planner
    // rescan a small or never-analysed managed_certificates once per row, and NOT IN stops being
    // hashed once the managed fingerprints outgrow work_mem.
    const managedCopies = new Set(
      queryRows<{ fp: string }>(
        await this.m.query(`SELECT DISTINCT "current_fingerprint" AS "fp" FROM "managed_certificates" WHERE "current_fingerprint" IS NOT NULL AND "removed_at" IS NULL`),
      ).map((r) => r.fp),
    );
    const rows = inventoryRows(
      await this.m.query(
        `SELECT ${INVENTORY_ROW} AS "r"
           FROM "certificate_inventory" i
          WHERE i."not_after" <= $1 AND i."fingerprint_sha256" IS NOT NULL
            AND NOT (i."detail" @> '{"isCa": true, "selfSigned": true}')`,
        [this.horizon()],
      ),
    ).filter((r) => !managedCopies.has(r.fp));
    for (const [fp, c] of groupByFingerprint(rows)) {
      const subjectKey = `fp:${fp}`;
      const owner = this.ownership.resolve(this.owners, subjectKey, c.subject);
      const stage = expiryStage(c.notAfter, now, thresholdsFor(owner.tags, null, this.input.byTag, this.input.byManaged, this.input.defaults));
      if (stage.stage === 0) continue;
      out.push({
        kind: 'expiry',
        subjectKey,
        stage: stage.stage,
        stageLabel: stage.label,
        severity: stage.severity,
        title: `${c.label} ${expiryPhrase(c.notAfter, now)}`,
        detail: { fingerprint: fp, notAfter: c.notAfter.toISOString(), installed: c.where.length, locations: c.where.slice(0, MAX_LOCATIONS_SHOWN) },
        ownerTeam: owner.team,
        ownerEmails: owner.emails,
        ownerChannels: owner.channels,
        tags: owner.tags,
      });
    }
    const managed = queryRows<{ id: string; name: string; not_after: Date | string; profile: { dnsNames?: string[] }; targets: Record<string, string>[]; labels: Record<string, string>; hostname: string }>(
      await this.m.query(
        `SELECT mc."id", mc."name", mc."not_after", mc."profile", mc."targets", a."labels", a."hostname"
           FROM "managed_certificates" mc JOIN "agents" a ON a."id" = mc."agent_id"
          WHERE mc."removed_at" IS NULL AND mc."not_after" IS NOT NULL AND mc."not_after" <= $1`,
        [this.horizon()],
      ),
    );
    for (const r of managed) {
      const subjectKey = `managed:${r.id}`;
      const owner = this.ownership.resolve(this.owners, subjectKey, managedSubject(r.profile, r.targets, r.labels));
      const notAfter = new Date(r.not_after);
      const stage = expiryStage(notAfter, now, thresholdsFor(owner.tags, r.id, this.input.byTag, this.input.byManaged, this.input.defaults));
      if (stage.stage === 0) continue;
      out.push({
        kind: 'expiry',
        subjectKey,
        stage: stage.stage,
        stageLabel: stage.label,
        severity: stage.severity,
        title: `managed certificate ${r.name} on ${r.hostname} ${expiryPhrase(notAfter, now)}`,
        detail: { managedCertificateId: r.id, name: r.name, notAfter: notAfter.toISOString() },
        ownerTeam: owner.team,
        ownerEmails: owner.emails,
        ownerChannels: owner.channels,
        tags: owner.tags,
      });
    }
    return out;
  }

  private async agentsOffline(): Promise<AlertCondition[]> {
    const since = new Date(this.input.now.getTime() - this.input.agentOfflineMinutes * 60_000);
    const rows = queryRows<{ id: string; hostname: string; last_seen_at: Date | string | null; labels: Record<string, string> }>(
      await this.m.query(`SELECT "id", "hostname", "last_seen_at", "labels" FROM "agents" WHERE "disabled_at" IS NULL AND COALESCE("last_seen_at", "enrolled_at") < $1`, [since]),
    );
    return rows.map((r) =>
      this.condition('agent-offline', `agent:${r.id}`, { names: [], locations: [{ path: '', agentLabels: r.labels }] }, {
        stage: 1,
        stageLabel: 'offline',
        severity: 'warning',
        title: `agent ${r.hostname} not seen for more than ${this.input.agentOfflineMinutes} minutes`,
        detail: { agentId: r.id, hostname: r.hostname, lastSeenAt: r.last_seen_at ? new Date(r.last_seen_at).toISOString() : null },
      }),
    );
  }

  private async renewalFailing(): Promise<AlertCondition[]> {
    const rows = queryRows<{ id: string; name: string; failure_count: number; last_error: string | null; profile: { dnsNames?: string[] }; targets: Record<string, string>[]; labels: Record<string, string> }>(
      await this.m.query(
        `SELECT mc."id", mc."name", mc."failure_count", mc."last_error", mc."profile", mc."targets", a."labels"
           FROM "managed_certificates" mc JOIN "agents" a ON a."id" = mc."agent_id" WHERE mc."removed_at" IS NULL AND mc."failure_count" >= $1`,
        [this.input.failuresBeforeFailing],
      ),
    );
    return rows.map((r) =>
      this.condition('renewal-failing', `managed:${r.id}`, managedSubject(r.profile, r.targets, r.labels), {
        stage: 1,
        stageLabel: 'failing',
        severity: 'warning',
        title: `renewal of ${r.name} failed ${r.failure_count} times in a row`,
        detail: { managedCertificateId: r.id, failures: r.failure_count, lastError: r.last_error },
      }),
    );
  }

  private async revokedInstalled(): Promise<AlertCondition[]> {
    const revoked = queryRows<{ fp: string; reason: string | null; revoked_at: Date | string | null }>(
      await this.m.query(
        `SELECT s."fingerprint_sha256" AS "fp", s."reason", s."revoked_at" FROM "certificate_revocation_status" s
          WHERE s."status" = 'revoked' AND EXISTS (SELECT 1 FROM "inventory_items" i WHERE i."fingerprint_sha256" = s."fingerprint_sha256")`,
      ),
    );
    const located = await this.locate(revoked.map((r) => r.fp));
    return revoked.map((r) => {
      const c = located.get(r.fp)!;
      return this.condition('revoked-installed', `fp:${r.fp}`, c.subject, {
        stage: 1,
        stageLabel: 'revoked',
        severity: 'critical',
        title: `revoked certificate ${c.label} still installed on ${c.where.length} host location(s)`,
        detail: { fingerprint: r.fp, reason: r.reason, revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null, locations: c.where.slice(0, MAX_LOCATIONS_SHOWN) },
      });
    });
  }

  private async chainInvalid(): Promise<AlertCondition[]> {
    const rows = queryRows<{ id: string; name: string; ca: string; revoked_at: Date | string | null; ca_not_after: Date | string | null; profile: { dnsNames?: string[] }; targets: Record<string, string>[]; labels: Record<string, string> }>(
      await this.m.query(
        `SELECT mc."id", mc."name", ca."name" AS "ca", ca."revoked_at", ca."not_after" AS "ca_not_after", mc."profile", mc."targets", a."labels"
           FROM "managed_certificates" mc
           -- The CA that signed the certificate installed now, not the one named for the next issuance
           -- (a break-glass rotation points that at the replacement before anything is reissued).
           JOIN "issued_certificates" ic ON ic."serial" = mc."current_serial" AND ic."fingerprint_sha256" = mc."current_fingerprint"
           JOIN "issuing_cas" ca ON ca."id" = ic."issuing_ca_id" JOIN "agents" a ON a."id" = mc."agent_id"
          WHERE mc."removed_at" IS NULL AND (ca."revoked_at" IS NOT NULL OR ca."not_after" <= $1)`,
        [this.input.now],
      ),
    );
    return rows.map((r) =>
      this.condition('chain-invalid', `managed:${r.id}`, managedSubject(r.profile, r.targets, r.labels), {
        stage: 1,
        stageLabel: 'invalid',
        severity: 'critical',
        title: `chain of ${r.name} no longer validates: issuing CA ${r.ca} is ${r.revoked_at ? 'revoked' : 'expired'}`,
        detail: { managedCertificateId: r.id, issuingCa: r.ca, caRevokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null },
      }),
    );
  }

  private async policyViolations(): Promise<AlertCondition[]> {
    const keyed = this.input.findings.map((f) => ({ ...f, certificateKey: /^[0-9a-f]{64}$/.test(f.certificateKey) ? `fp:${f.certificateKey}` : f.certificateKey }));
    const located = await this.locate(keyed.filter((f) => f.certificateKey.startsWith('fp:')).map((f) => f.certificateKey.slice(3)));
    const managedIds = keyed.filter((f) => f.certificateKey.startsWith('managed:')).map((f) => f.certificateKey.slice(8));
    const managed = new Map(
      queryRows<{ id: string; name: string; profile: { dnsNames?: string[] }; targets: Record<string, string>[]; labels: Record<string, string> }>(
        managedIds.length
          ? await this.m.query(`SELECT mc."id", mc."name", mc."profile", mc."targets", a."labels" FROM "managed_certificates" mc JOIN "agents" a ON a."id" = mc."agent_id" WHERE mc."id" = ANY($1::uuid[])`, [managedIds])
          : [],
      ).map((r) => [r.id, r]),
    );
    const out: AlertCondition[] = [];
    for (const f of keyed) {
      const fp = f.certificateKey.startsWith('fp:') ? located.get(f.certificateKey.slice(3)) : undefined;
      const mc = f.certificateKey.startsWith('managed:') ? managed.get(f.certificateKey.slice(8)) : undefined;
      if (!fp && !mc) continue; // the certificate is gone: nothing to alert on
      const subject = fp ? fp.subject : managedSubject(mc!.profile, mc!.targets, mc!.labels);
      out.push(
        this.condition('policy-violation', `policy:${f.certificateKey}:${f.rule}`.slice(0, 300), subject, {
          stage: 1,
          stageLabel: 'violation',
          severity: f.severity,
          title: `${fp ? fp.label : mc!.name} breaks policy rule ${f.rule}: ${f.message}`,
          detail: { certificate: f.certificateKey, rule: f.rule, message: f.message },
        }),
      );
    }
    return out;
  }

  /** Names and locations of inventory certificates, by fingerprint. */
  private async locate(fps: string[]): Promise<Map<string, Located>> {
    if (fps.length === 0) return new Map();
    const rows = inventoryRows(
      await this.m.query(
        `SELECT ${INVENTORY_ROW} AS "r"
           FROM (SELECT DISTINCT unnest($1::varchar[]) AS "fp") k JOIN "certificate_inventory" i ON i."fingerprint_sha256" = k."fp"`,
        [fps],
      ),
    );
    return groupByFingerprint(rows);
  }
}

/**
 * One inventory row as a single JSON array in text: the driver decodes one field per row instead of
 * seven (per-field decoding was a large share of a pass over tens of thousands of rows).
 */
const INVENTORY_ROW = `json_build_array(i."fingerprint_sha256", i."not_after", i."path", i."subject", i."detail"->'dnsNames', i."labels", i."hostname")::text`;

function inventoryRows(result: unknown): InventoryRow[] {
  return queryRows<{ r: string }>(result).map(({ r }) => {
    const [fp, notAfter, path, subject, dns, labels, hostname] = JSON.parse(r) as [string, string, string, string | null, string[] | null, Record<string, string>, string];
    return { fp, not_after: notAfter, path, subject, dns, labels, hostname };
  });
}

function groupByFingerprint(rows: InventoryRow[]): Map<string, Located> {
  const out = new Map<string, Located>();
  for (const r of rows) {
    let c = out.get(r.fp);
    if (!c) {
      const names = [...(r.dns ?? []), ...commonName(r.subject)];
      c = { subject: { names: [...new Set(names)], locations: [] }, label: names[0] ?? r.subject ?? r.fp.slice(0, 16), where: [], notAfter: new Date(r.not_after) };
      out.set(r.fp, c);
    }
    const location: CertificateLocation = { path: r.path, agentLabels: r.labels ?? {} };
    c.subject.locations.push(location);
    c.where.push({ hostname: r.hostname, path: r.path });
  }
  return out;
}
