import { timeToExpiry } from '../alerts/expiry-stage';

/** What a channel is asked to send: the alert as it was when the notification was made. */
export interface AlertMessage {
  deliveryId: string;
  event: 'raised' | 'resolved' | 'test';
  alertId: string;
  kind: string;
  subjectKey: string;
  stage: number;
  stageLabel: string;
  severity: 'warning' | 'critical';
  title: string;
  detail: Record<string, unknown>;
  owner: { team: string | null; emails: string[] };
  tags: string[];
  episode: number;
  /** When the notification was made (ISO 8601). */
  at: string;
}

/** One line a person can read, e.g. "[CRITICAL] expiry 7d: www.example.com expires on 2027-01-08 (in 6 days)". */
export function summaryLine(m: AlertMessage): string {
  const head = m.event === 'resolved' ? '[RESOLVED]' : m.event === 'test' ? '[TEST]' : `[${m.severity.toUpperCase()}]`;
  const owner = m.owner.team ? ` (owner: ${m.owner.team})` : '';
  // The stored title has the date; the countdown is as of when the message was made.
  const notAfter = m.kind === 'expiry' && m.event === 'raised' && typeof m.detail.notAfter === 'string' ? new Date(m.detail.notAfter) : null;
  const when = notAfter && !Number.isNaN(notAfter.getTime()) ? ` (${timeToExpiry(notAfter, new Date(m.at))})` : '';
  return `${head} ${m.kind}${m.event === 'raised' && m.stageLabel ? ` ${m.stageLabel}` : ''}: ${m.title}${when}${owner}`;
}

/** A way to send notifications. `signal` aborts at the per-attempt timeout; a throw is a failed attempt. */
export interface ChannelSender {
  send(message: AlertMessage, recipients: string[], signal: AbortSignal): Promise<void>;
}
