import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVER_CONFIG, ServerConfig } from '../../config/server-config';
import { AuditService } from '../audit/audit.service';
import { FleetCaService } from '../fleet-ca/fleet-ca.service';
import { parseChannel } from './channel-settings';
import { CommandChannel } from './channels/command.channel';
import { SlackChannel } from './channels/slack.channel';
import { SmtpChannel, SmtpSettings } from './channels/smtp.channel';
import { WebhookChannel } from './channels/webhook.channel';
import { NotificationChannel } from './notification-channel.entity';
import { AlertMessage, ChannelSender } from './notification-message';

/** Seals and opens channel secrets with the server's at-rest key (the one CA keys use). */
export type SecretBox = Pick<FleetCaService, 'sealPrivateKey' | 'openPrivateKey'>;

export interface ChannelView {
  id: string;
  name: string;
  type: string;
  role: string;
  settings: Record<string, unknown>;
  hasSecret: boolean;
  createdAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function channelView(c: NotificationChannel): ChannelView {
  const { caPem, ...settings } = c.settings;
  return { id: c.id, name: c.name, type: c.type, role: c.role, settings: caPem ? { ...settings, caPem: '(set)' } : settings, hasSecret: !!c.encryptedSecret, createdAt: c.createdAt };
}

@Injectable()
export class ChannelsService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(FleetCaService) private readonly secrets: SecretBox,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(SERVER_CONFIG) private readonly config: ServerConfig,
  ) {}

  async list(): Promise<ChannelView[]> {
    return (await this.ds.getRepository(NotificationChannel).find({ order: { name: 'ASC' } })).map(channelView);
  }

  async add(body: Record<string, unknown>, actor: string): Promise<ChannelView> {
    const input = parseChannel(body ?? {}, this.config.serverCommands);
    return this.ds.transaction(async (m) => {
      if (await m.getRepository(NotificationChannel).exists({ where: { name: input.name } })) throw new BadRequestException(`a channel named "${input.name}" exists already`);
      const saved = await m.getRepository(NotificationChannel).save({
        name: input.name,
        type: input.type,
        role: input.role,
        settings: input.settings,
        encryptedSecret: input.secret ? this.secrets.sealPrivateKey(input.secret) : null,
      });
      await this.audit.record(m, { actor, action: 'channel.added', subjectType: 'notification-channel', subjectId: saved.id, detail: { name: input.name, type: input.type, role: input.role } });
      return channelView(saved);
    });
  }

  async find(idOrName: string): Promise<NotificationChannel> {
    const repo = this.ds.getRepository(NotificationChannel);
    const c = (UUID.test(idOrName) ? await repo.findOneBy({ id: idOrName }) : null) ?? (await repo.findOneBy({ name: idOrName }));
    if (!c) throw new NotFoundException(`no notification channel "${idOrName}"`);
    return c;
  }

  /** Removes the channel and its delivery records (pending ones are not sent). */
  async remove(idOrName: string, actor: string): Promise<void> {
    const c = await this.find(idOrName);
    await this.ds.transaction(async (m) => {
      await m.getRepository(NotificationChannel).delete({ id: c.id });
      await this.audit.record(m, { actor, action: 'channel.removed', subjectType: 'notification-channel', subjectId: c.id, detail: { name: c.name } });
    });
  }

  /** Sends a test notification now, bypassing the queue; says what happened. */
  async test(idOrName: string, recipients?: string[]): Promise<{ delivered: boolean; error: string | null; ms: number }> {
    const c = await this.find(idOrName);
    const message: AlertMessage = {
      deliveryId: 'test',
      event: 'test',
      alertId: 'test',
      kind: 'test',
      subjectKey: `channel:${c.name}`,
      stage: 0,
      stageLabel: 'test',
      severity: 'warning',
      title: `certfleet test notification for channel ${c.name}`,
      detail: {},
      owner: { team: null, emails: [] },
      tags: [],
      episode: 0,
      at: new Date().toISOString(),
    };
    const to = recipients?.length ? recipients : ((c.settings.to as string[] | undefined) ?? []);
    const started = Date.now();
    try {
      await sendWithTimeout(this.senderFor(c), message, to, this.timeoutMs(c));
      return { delivered: true, error: null, ms: Date.now() - started };
    } catch (err) {
      return { delivered: false, error: (err as Error).message, ms: Date.now() - started };
    }
  }

  timeoutMs(c: NotificationChannel): number {
    const own = typeof c.settings.timeoutSeconds === 'number' ? c.settings.timeoutSeconds : this.config.alerts.deliveryTimeoutSeconds;
    return own * 1000;
  }

  senderFor(c: NotificationChannel, now?: () => Date): ChannelSender {
    const secret = c.encryptedSecret ? this.secrets.openPrivateKey(c.encryptedSecret) : null;
    switch (c.type) {
      case 'webhook':
        return new WebhookChannel(String(c.settings.url), secret ?? '', now);
      case 'slack':
        return new SlackChannel(secret ?? '');
      case 'smtp':
        return new SmtpChannel(c.settings as unknown as SmtpSettings, secret, this.timeoutMs(c));
      case 'command':
        return new CommandChannel(c.settings.command as string[]);
    }
  }
}

/** Runs one send bounded by `ms`: the signal aborts it and the promise settles by then at the latest. */
export async function sendWithTimeout(sender: ChannelSender, message: AlertMessage, recipients: string[], ms: number): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  try {
    await Promise.race([sender.send(message, recipients, controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
