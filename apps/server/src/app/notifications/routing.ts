import type { NotificationChannel } from './notification-channel.entity';

export interface RoutedAlert {
  severity: 'warning' | 'critical';
  ownerEmails: string[];
  ownerChannels: string[];
}

/**
 * Which channels an alert notification goes to, and the mail recipients of each: channels with role
 * "all" always, "escalation" ones at the critical stage, and the channels the owner names; smtp
 * channels with mailOwners also mail the owner's addresses.
 */
export function routeAlert(alert: RoutedAlert, channels: NotificationChannel[]): { channelId: string; recipients: string[] }[] {
  const critical = alert.severity === 'critical';
  const out: { channelId: string; recipients: string[] }[] = [];
  for (const c of channels) {
    const listed = c.role === 'all' || (c.role === 'escalation' && critical) || alert.ownerChannels.includes(c.name);
    if (c.type !== 'smtp') {
      if (listed) out.push({ channelId: c.id, recipients: [] });
      continue;
    }
    const to = new Set<string>(listed ? ((c.settings.to as string[]) ?? []) : []);
    if (c.settings.mailOwners === true) for (const e of alert.ownerEmails) to.add(e);
    if (to.size) out.push({ channelId: c.id, recipients: [...to] });
  }
  return out;
}
