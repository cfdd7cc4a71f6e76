export type CertificateStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'EXPIRED';
export const CERTIFICATE_STATUSES: CertificateStatus[] = ['OK', 'WARNING', 'CRITICAL', 'EXPIRED'];

export interface ExpiryThresholds {
  warningDays: number;
  criticalDays: number;
}

const DAY_MS = 86_400_000;

/** EXPIRED after notAfter; CRITICAL within criticalDays; WARNING within warningDays; else OK. */
export function certificateStatus(notAfter: Date, now: Date, t: ExpiryThresholds): CertificateStatus {
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return 'EXPIRED';
  if (left <= t.criticalDays * DAY_MS) return 'CRITICAL';
  if (left <= t.warningDays * DAY_MS) return 'WARNING';
  return 'OK';
}

/** The notAfter window [from, to) that holds exactly the certificates in `status` at `now`. */
export function notAfterRangeFor(status: CertificateStatus, now: Date, t: ExpiryThresholds): { from?: Date; to?: Date } {
  const at = (days: number) => new Date(now.getTime() + days * DAY_MS);
  switch (status) {
    case 'EXPIRED':
      return { to: at(0) };
    case 'CRITICAL':
      return { from: at(0), to: at(t.criticalDays) };
    case 'WARNING':
      return { from: at(t.criticalDays), to: at(t.warningDays) };
    case 'OK':
      return { from: at(t.warningDays) };
  }
}

export function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}
