import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, EntityManager, FindOptionsWhere, In, Not } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { NotificationDelivery } from '../notifications/notification-delivery.entity';
import { Alert, ALERT_KINDS, AlertKind, AlertState } from './alert.entity';
import { AlertThreshold } from './alert-threshold.entity';
import { ALERT_CLOCK, Clock } from './clock';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATES: AlertState[] = ['open', 'acknowledged', 'silenced', 'resolved'];

export interface AlertFilter {
  state?: string;
  kind?: string;
  limit?: number;
}

/** Reading alerts, acknowledging and silencing them, and the expiry thresholds per tag/profile. */
@Injectable()
export class AlertsService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(ALERT_CLOCK) private readonly clock: Clock,
  ) {}

  /** Default: every alert that is not resolved, most severe and newest first. */
  async list(filter: AlertFilter = {}): Promise<Alert[]> {
    const where: FindOptionsWhere<Alert> = {};
    if (filter.state && filter.state !== 'all') {
      const states = filter.state.split(',');
      if (states.some((s) => !STATES.includes(s as AlertState))) throw new BadRequestException(`state must be all or a list of ${STATES.join(', ')}`);
      where.state = In(states);
    } else if (!filter.state) where.state = Not('resolved');
    if (filter.kind) {
      if (!ALERT_KINDS.includes(filter.kind as AlertKind)) throw new BadRequestException(`kind must be one of ${ALERT_KINDS.join(', ')}`);
      where.kind = filter.kind as AlertKind;
    }
    const limit = Math.min(Math.max(filter.limit ?? 500, 1), 10_000);
    return this.ds.getRepository(Alert).find({ where, order: { severity: 'ASC', updatedAt: 'DESC' }, take: limit });
  }

  async get(id: string): Promise<Alert & { deliveries: Omit<NotificationDelivery, 'message'>[] }> {
    const alert = await this.find(id);
    const deliveries = await this.ds.getRepository(NotificationDelivery).find({ where: { alertId: alert.id }, order: { createdAt: 'DESC' }, take: 100 });
    return { ...alert, deliveries: deliveries.map(({ message: _m, ...d }) => d) };
  }

  private async find(id: string, m: EntityManager = this.ds.manager): Promise<Alert> {
    const alert = UUID.test(id) ? await m.getRepository(Alert).findOneBy({ id }) : null;
    if (!alert) throw new NotFoundException(`no alert ${id}`);
    return alert;
  }

  /** Someone is on it: no more notifications for this alert until it resolves. */
  async acknowledge(id: string, actor: string): Promise<Alert> {
    return this.ds.transaction(async (m) => {
      const alert = await this.find(id, m);
      if (alert.state === 'resolved') throw new BadRequestException('the alert is resolved already');
      const now = this.clock.now();
      await m.getRepository(Alert).update({ id: alert.id }, { state: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: now, silencedUntil: null, updatedAt: now });
      await this.audit.record(m, { actor, action: 'alert.acknowledged', subjectType: 'alert', subjectId: alert.id, detail: { kind: alert.kind, subject: alert.subjectKey } });
      return { ...alert, state: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: now, silencedUntil: null };
    });
  }

  /** No notifications until `until`; then the alert is open again and a stage reached meanwhile is sent. */
  async silence(id: string, until: unknown, actor: string): Promise<Alert> {
    const date = typeof until === 'string' ? new Date(until) : null;
    const now = this.clock.now();
    if (!date || Number.isNaN(date.getTime())) throw new BadRequestException('until must be an ISO 8601 date');
    if (date.getTime() <= now.getTime()) throw new BadRequestException('until must be in the future');
    if (date.getTime() > now.getTime() + 366 * 86_400_000) throw new BadRequestException('silence for at most a year');
    return this.ds.transaction(async (m) => {
      const alert = await this.find(id, m);
      if (alert.state === 'resolved') throw new BadRequestException('the alert is resolved already');
      await m.getRepository(Alert).update({ id: alert.id }, { state: 'silenced', silencedUntil: date, updatedAt: now });
      await this.audit.record(m, { actor, action: 'alert.silenced', subjectType: 'alert', subjectId: alert.id, detail: { kind: alert.kind, subject: alert.subjectKey, until: date.toISOString() } });
      return { ...alert, state: 'silenced', silencedUntil: date };
    });
  }

  listThresholds(): Promise<AlertThreshold[]> {
    return this.ds.getRepository(AlertThreshold).find({ order: { scope: 'ASC', scopeValue: 'ASC' } });
  }

  /** Sets the thresholds of a tag (`tag:<name>`) or a managed certificate (`managed:<id or name>`). */
  async setThresholds(scope: string, days: unknown, actor: string): Promise<AlertThreshold> {
    if (!Array.isArray(days) || days.length === 0 || days.length > 10 || days.some((d, i) => !Number.isInteger(d) || d < 1 || d > 3650 || (i > 0 && d >= days[i - 1]))) {
      throw new BadRequestException('days must be 1 to 10 whole days, descending, e.g. [30, 14, 7]');
    }
    const { kind, value } = await this.scope(scope);
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(AlertThreshold);
      const existing = await repo.findOneBy({ scope: kind, scopeValue: value });
      const saved = await repo.save({ ...(existing ?? {}), scope: kind, scopeValue: value, days: days as number[] });
      await this.audit.record(m, { actor, action: 'alert-thresholds.set', subjectType: 'alert-thresholds', subjectId: `${kind}:${value}`, detail: { days: days as number[] } });
      return saved;
    });
  }

  async removeThresholds(scope: string, actor: string): Promise<void> {
    const { kind, value } = await this.scope(scope);
    await this.ds.transaction(async (m) => {
      const { affected } = await m.getRepository(AlertThreshold).delete({ scope: kind, scopeValue: value });
      if (!affected) throw new NotFoundException(`no thresholds for ${scope}`);
      await this.audit.record(m, { actor, action: 'alert-thresholds.removed', subjectType: 'alert-thresholds', subjectId: `${kind}:${value}` });
    });
  }

  private async scope(scope: string): Promise<{ kind: 'tag' | 'managed'; value: string }> {
    const [kind, ...rest] = scope.split(':');
    const value = rest.join(':');
    if (kind === 'tag' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/.test(value)) return { kind, value };
    if (kind === 'managed' && value) {
      const rows = (await this.ds.query(`SELECT "id" FROM "managed_certificates" WHERE "removed_at" IS NULL AND (${UUID.test(value) ? `"id" = $1::uuid OR ` : ''}"name" = $1)`, [value])) as { id: string }[];
      if (!rows.length) throw new NotFoundException(`no managed certificate "${value}"`);
      return { kind, value: rows[0].id };
    }
    throw new BadRequestException('scope must be tag:<tag> or managed:<id or name>');
  }
}
