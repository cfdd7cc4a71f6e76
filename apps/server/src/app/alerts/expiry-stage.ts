import type { AlertSeverity } from './alert.entity';

const DAY_MS = 86_400_000;

export interface ExpiryStage {
  /** 0: no threshold crossed; 1..n: thresholds crossed (days descending); n + 1: expired. */
  stage: number;
  label: string;
  severity: AlertSeverity;
}

/**
 * The expiry stage of a certificate for thresholds in days (descending, e.g. [30, 14, 7]). The last
 * threshold and expiry are critical; the others warnings.
 */
export function expiryStage(notAfter: Date, now: Date, thresholdDays: number[]): ExpiryStage {
  const left = notAfter.getTime() - now.getTime();
  const n = thresholdDays.length;
  if (left <= 0) return { stage: n + 1, label: 'expired', severity: 'critical' };
  const crossed = thresholdDays.filter((d) => left <= d * DAY_MS).length;
  if (crossed === 0) return { stage: 0, label: '', severity: 'warning' };
  return { stage: crossed, label: `${thresholdDays[crossed - 1]}d`, severity: crossed === n ? 'critical' : 'warning' };
}

/**
 * "expires on 2027-01-08" / "expired on 2027-01-01" (UTC): the alert title, which stays the same
 * from day to day (a countdown in the title would rewrite every open alert each day).
 */
export function expiryPhrase(notAfter: Date, now: Date): string {
  const day = notAfter.toISOString().slice(0, 10);
  return notAfter.getTime() <= now.getTime() ? `expired on ${day}` : `expires on ${day}`;
}

/** "in 6 days" / "in 5 hours" / "1 day ago" / "today": for messages made at `now`. */
export function timeToExpiry(notAfter: Date, now: Date): string {
  const left = notAfter.getTime() - now.getTime();
  const days = Math.floor(Math.abs(left) / DAY_MS);
  if (left <= 0) return days === 0 ? 'today' : `${days} day${days === 1 ? '' : 's'} ago`;
  if (days === 0) return `in ${Math.max(1, Math.floor(left / 3_600_000))} hour(s)`;
  return `in ${days} day${days === 1 ? '' : 's'}`;
}

/**
 * Thresholds for one certificate: its managed profile's if set, else those of its first tag (by
 * name) that has some, else the defaults.
 */
export function thresholdsFor(tags: string[], managedId: string | null, byTag: Map<string, number[]>, byManaged: Map<string, number[]>, defaults: number[]): number[] {
  if (managedId && byManaged.has(managedId)) return byManaged.get(managedId)!;
  for (const t of [...tags].sort()) if (byTag.has(t)) return byTag.get(t)!;
  return defaults;
}
