import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { withAdvisoryLock } from '../../database/advisory-lock';
import { queryRows } from '../../database/query-rows';
import { NotificationChannel } from '../notifications/notification-channel.entity';
import { AlertMessage } from '../notifications/notification-message';
import { routeAlert } from '../notifications/routing';
import { OwnershipService } from '../ownership/ownership.service';
import { AlertConditions } from './alert-conditions';
import { AlertThreshold } from './alert-threshold.entity';
import { AlertCondition, AlertStatus, transition } from './alert-transition';
import { ALERT_CLOCK, Clock } from './clock';
import { POLICY_FINDINGS_SOURCE, PolicyFindingsSource } from './policy-findings';

/** Advisory lock id of the evaluation pass: one replica evaluates at a time. */
export const ALERTS_LOCK = 7310;
const CHUNK = 5000;

export interface PassResult {
  conditions: number;
  opened: number;
  resolved: number;
  changed: number;
  notifications: number;
  /** Finding the conditions (queries + owner resolution), of ms. */
  conditionsMs: number;
  ms: number;
}

interface StoredAlert extends AlertStatus {
  id: string;
  kind: string;
  subject_key: string;
  stage_label: string;
  severity: string;
  title: string;
  owner_team: string | null;
  owner_emails: string[];
  owner_channels: string[];
  tags: string[];
}

/**
 * One evaluation pass: finds the conditions that hold (set-based queries), moves each alert through
 * `transition`, writes the changed ones in bulk, and records the notifications to send (delivered
 * later by the DeliveryWorker). All in one transaction under an advisory lock, so passes on several
 * replicas never interleave and a stage is recorded as notified exactly when its deliveries are.
 */
@Injectable()
export class AlertEvaluator {
  private readonly logger = new Logger('AlertEvaluator');

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(OwnershipService) private readonly ownership: OwnershipService,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
    @Inject(ALERT_CLOCK) private readonly clock: Clock,
    @Inject(POLICY_FINDINGS_SOURCE) private readonly policy: PolicyFindingsSource,
  ) {}

  async evaluate(): Promise<PassResult> {
    const started = Date.now();
    const now = this.clock.now();
    const findings = await this.policy.currentFindings();
    const result = await withAdvisoryLock(this.ds, ALERTS_LOCK, async (m) => {
      const thresholds = await m.getRepository(AlertThreshold).find();
      const conditions = await new AlertConditions(m, this.ownership, await this.ownership.context(m), {
        now,
        defaults: this.config.alerts.thresholdDays,
        byTag: new Map(thresholds.filter((t) => t.scope === 'tag').map((t) => [t.scopeValue, t.days])),
        byManaged: new Map(thresholds.filter((t) => t.scope === 'managed').map((t) => [t.scopeValue, t.days])),
        agentOfflineMinutes: this.config.alerts.agentOfflineMinutes,
        failuresBeforeFailing: this.config.renewal.failuresBeforeFailing,
        findings,
      }).all();
      const conditionsMs = Date.now() - started;
      return { ...(await this.apply(m, conditions, now)), conditionsMs };
    });
    const out = { ...result, ms: Date.now() - started };
    if (out.opened || out.resolved || out.notifications) this.logger.log(`alerts: ${out.opened} opened, ${out.resolved} resolved, ${out.notifications} notification(s) queued`);
    return out;
  }

  private async apply(m: EntityManager, conditions: AlertCondition[], now: Date): Promise<Omit<PassResult, 'ms' | 'conditionsMs'>> {
    const key = (kind: string, subject: string) => `${kind}\u0000${subject}`;
    const byKey = new Map(conditions.map((c) => [key(c.kind, c.subjectKey), c]));
    // Each stored alert comes back as one JSON array in text: the driver decodes one field per row
    // instead of fifteen (per-field decoding was most of the cost of reading tens of thousands).
    const storedRow = `json_build_array(a."id", a."kind", a."subject_key", a."state", a."stage", a."episode", a."notified_stage", a."silenced_until",
                a."stage_label", a."severity", a."title", a."owner_team", a."owner_emails", a."owner_channels", a."tags")::text AS "r"`;
    const stored = queryRows<{ r: string }>(
      // Unresolved alerts, and resolved ones whose condition is back (joined, not `= ANY`: tens of
      // thousands of keys against an array would be a quadratic scan).
      await m.query(
        `SELECT ${storedRow} FROM "alerts" a WHERE a."state" <> 'resolved'
         UNION ALL
         SELECT ${storedRow} FROM "alerts" a JOIN (SELECT DISTINCT unnest($1::varchar[]) AS "key") k ON a."subject_key" = k."key" WHERE a."state" = 'resolved'`,
        [[...new Set(conditions.map((c) => c.subjectKey))]],
      ),
    );
    const existing = new Map<string, StoredAlert>();
    for (const { r } of stored) {
      const [id, kind, subjectKey, state, stage, episode, notifiedStage, silencedUntil, stageLabel, severity, title, ownerTeam, ownerEmails, ownerChannels, tags] = JSON.parse(r) as [
        string, string, string, StoredAlert['state'], number, number, number, string | null, string, string, string, string | null, string[], string[], string[],
      ];
      existing.set(key(kind, subjectKey), {
        id, kind, subject_key: subjectKey, state, stage, episode, notifiedStage, silencedUntil: silencedUntil ? new Date(silencedUntil) : null,
        stage_label: stageLabel, severity, title, owner_team: ownerTeam, owner_emails: ownerEmails, owner_channels: ownerChannels, tags,
      });
    }
    const inserts: Record<string, unknown>[] = [];
    const updates: Record<string, unknown>[] = [];
    const notify: { ref: string; event: 'raised' | 'resolved'; row: Record<string, unknown> }[] = [];
    let opened = 0;
    let resolved = 0;
    // Conditions first, then the stored alerts without one (the order a Set of both would give).
    const keys = [...byKey.keys()];
    for (const k of existing.keys()) if (!byKey.has(k)) keys.push(k);
    for (const k of keys) {
      const c = byKey.get(k);
      const a = existing.get(k);
      const t = transition(a, c, now);
      if (!t) continue;
      // The steady case (nothing changed) is decided without building the row.
      if (a && c && !t.opened && !t.resolved && !t.notify && unchanged(a, c, t.next)) continue;
      const fields = c
        ? { kind: c.kind, subject_key: c.subjectKey, stage_label: c.stageLabel, severity: c.severity, title: c.title, detail: c.detail, owner_team: c.ownerTeam, owner_emails: c.ownerEmails, owner_channels: c.ownerChannels, tags: c.tags }
        : { kind: a!.kind, subject_key: a!.subject_key, stage_label: a!.stage_label, severity: a!.severity, title: a!.title, detail: null, owner_team: a!.owner_team, owner_emails: a!.owner_emails, owner_channels: a!.owner_channels, tags: a!.tags };
      const row = { ...fields, state: t.next.state, stage: t.next.stage, episode: t.next.episode, notified_stage: t.next.notifiedStage, silenced_until: t.next.silencedUntil, opened: t.opened, resolved: t.resolved };
      opened += t.opened ? 1 : 0;
      resolved += t.resolved ? 1 : 0;
      if (!a) inserts.push(row);
      else if (t.opened || t.resolved || t.notify || !sameAlert(a, row)) updates.push({ ...row, id: a.id });
      if (t.notify) notify.push({ ref: a?.id ?? k, event: t.notify, row });
    }
    const ids = new Map<string, string>();
    for (let i = 0; i < inserts.length; i += CHUNK) {
      const rows = queryRows<{ id: string; kind: string; subject_key: string }>(
        await m.query(
          `INSERT INTO "alerts" ("kind", "subject_key", "state", "stage", "stage_label", "severity", "title", "detail", "owner_team", "owner_emails", "owner_channels", "tags", "episode", "notified_stage", "opened_at", "updated_at")
           SELECT r."kind", r."subject_key", r."state", r."stage", r."stage_label", r."severity", r."title", r."detail", r."owner_team", r."owner_emails", r."owner_channels", r."tags", r."episode", r."notified_stage", $2, $2
             FROM jsonb_to_recordset($1::jsonb) AS r("kind" varchar, "subject_key" varchar, "state" varchar, "stage" int, "stage_label" varchar, "severity" varchar, "title" text, "detail" jsonb, "owner_team" varchar, "owner_emails" jsonb, "owner_channels" jsonb, "tags" jsonb, "episode" int, "notified_stage" int)
           RETURNING "id", "kind", "subject_key"`,
          [JSON.stringify(inserts.slice(i, i + CHUNK)), now],
        ),
      );
      for (const r of rows) ids.set(key(r.kind, r.subject_key), r.id);
    }
    for (let i = 0; i < updates.length; i += CHUNK) {
      await m.query(
        `UPDATE "alerts" a SET "state" = u."state", "stage" = u."stage", "stage_label" = u."stage_label", "severity" = u."severity", "title" = u."title", "detail" = COALESCE(u."detail", a."detail"),
                "owner_team" = u."owner_team", "owner_emails" = u."owner_emails", "owner_channels" = u."owner_channels", "tags" = u."tags", "episode" = u."episode",
                "notified_stage" = u."notified_stage", "silenced_until" = u."silenced_until", "updated_at" = $2,
                "opened_at" = CASE WHEN u."opened" THEN $2 ELSE a."opened_at" END,
                "resolved_at" = CASE WHEN u."resolved" THEN $2 WHEN u."opened" THEN NULL ELSE a."resolved_at" END,
                "acknowledged_by" = CASE WHEN u."opened" THEN NULL ELSE a."acknowledged_by" END,
                "acknowledged_at" = CASE WHEN u."opened" THEN NULL ELSE a."acknowledged_at" END
           FROM jsonb_to_recordset($1::jsonb) AS u("id" uuid, "state" varchar, "stage" int, "stage_label" varchar, "severity" varchar, "title" text, "detail" jsonb, "owner_team" varchar, "owner_emails" jsonb, "owner_channels" jsonb, "tags" jsonb, "episode" int, "notified_stage" int, "silenced_until" timestamptz, "opened" boolean, "resolved" boolean)
          WHERE a."id" = u."id"`,
        [JSON.stringify(updates.slice(i, i + CHUNK)), now],
      );
    }
    const notifications = await this.queueNotifications(
      m,
      notify.map((n) => ({ ...n, alertId: ids.get(n.ref) ?? n.ref })),
      now,
    );
    return { conditions: conditions.length, opened, resolved, changed: inserts.length + updates.length, notifications };
  }

  /** Records one delivery per routed channel; the unique key keeps a notification from being made twice. */
  private async queueNotifications(m: EntityManager, notify: { alertId: string; event: 'raised' | 'resolved'; row: Record<string, unknown> }[], now: Date): Promise<number> {
    if (notify.length === 0) return 0;
    const channels = await m.getRepository(NotificationChannel).find();
    if (channels.length === 0) return 0;
    const deliveries: Record<string, unknown>[] = [];
    for (const n of notify) {
      const r = n.row as Record<string, never>;
      const message: Omit<AlertMessage, 'deliveryId'> = {
        event: n.event,
        alertId: n.alertId,
        kind: r.kind,
        subjectKey: r.subject_key,
        stage: r.stage,
        stageLabel: r.stage_label,
        severity: r.severity,
        title: r.title,
        detail: r.detail ?? {},
        owner: { team: r.owner_team, emails: r.owner_emails },
        tags: r.tags,
        episode: r.episode,
        at: now.toISOString(),
      };
      for (const route of routeAlert({ severity: r.severity, ownerEmails: r.owner_emails, ownerChannels: r.owner_channels }, channels)) {
        deliveries.push({ alert_id: n.alertId, channel_id: route.channelId, event: n.event, episode: r.episode, stage: n.event === 'resolved' ? 0 : r.stage, message, recipients: route.recipients });
      }
    }
    let queued = 0;
    for (let i = 0; i < deliveries.length; i += CHUNK) {
      const rows = queryRows(
        await m.query(
          `INSERT INTO "notification_deliveries" ("alert_id", "channel_id", "event", "episode", "stage", "message", "recipients", "status", "attempts", "next_attempt_at", "created_at")
           SELECT d."alert_id", d."channel_id", d."event", d."episode", d."stage", d."message", d."recipients", 'pending', 0, $2, $2
             FROM jsonb_to_recordset($1::jsonb) AS d("alert_id" uuid, "channel_id" uuid, "event" varchar, "episode" int, "stage" int, "message" jsonb, "recipients" jsonb)
           ON CONFLICT ON CONSTRAINT "UQ_notification_deliveries_once" DO NOTHING RETURNING "id"`,
          [JSON.stringify(deliveries.slice(i, i + CHUNK)), now],
        ),
      );
      queued += rows.length;
    }
    return queued;
  }
}

function sameAlert(a: StoredAlert, row: Record<string, unknown>): boolean {
  return (
    a.state === row.state &&
    a.stage === row.stage &&
    a.notifiedStage === row.notified_stage &&
    a.stage_label === row.stage_label &&
    a.severity === row.severity &&
    a.title === row.title &&
    a.owner_team === row.owner_team &&
    sameJson(a.owner_emails, row.owner_emails) &&
    sameJson(a.owner_channels, row.owner_channels) &&
    sameJson(a.tags, row.tags)
  );
}

/** sameAlert for a stored alert whose condition still holds, without building the row to write. */
function unchanged(a: StoredAlert, c: AlertCondition, next: AlertStatus): boolean {
  return (
    a.state === next.state &&
    a.stage === next.stage &&
    a.notifiedStage === next.notifiedStage &&
    a.stage_label === c.stageLabel &&
    a.severity === c.severity &&
    a.title === c.title &&
    a.owner_team === c.ownerTeam &&
    sameJson(a.owner_emails, c.ownerEmails) &&
    sameJson(a.owner_channels, c.ownerChannels) &&
    sameJson(a.tags, c.tags)
  );
}

/** JSON.stringify(a) === JSON.stringify(b), element by element for arrays of strings (the common case). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x: unknown = a[i];
      const y: unknown = b[i];
      if (x === y) continue;
      if (typeof x === 'string' && typeof y === 'string') return false;
      if (JSON.stringify(x) !== JSON.stringify(y)) return false;
    }
    return true;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}
