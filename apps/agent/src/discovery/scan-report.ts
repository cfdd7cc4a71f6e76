// Rendering a scan for people (table) and for programs (one JSON document).
import type { DiscoveredCertificate } from '@certfleet/pki';
import { ScanResult } from './scan-types';

const DAY_MS = 86_400_000;

export type ExpiryStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'EXPIRED';

export function expiryStatus(daysLeft: number): ExpiryStatus {
  if (daysLeft < 0) return 'EXPIRED';
  if (daysLeft <= 7) return 'CRITICAL';
  if (daysLeft <= 30) return 'WARNING';
  return 'OK';
}

export const daysLeft = (cert: DiscoveredCertificate, now: Date): number =>
  Math.floor(((cert.notAfter?.getTime() ?? 0) - now.getTime()) / DAY_MS);

export function commonName(subject: string): string {
  const m = /(?:^|, )CN=((?:\\.|[^,\\])*)/.exec(subject);
  return m ? m[1].replace(/\\(.)/g, '$1') : subject;
}

const keyLabel = (c: DiscoveredCertificate) => [c.keyAlgorithm, c.keyCurve || (c.keySize ? String(c.keySize) : '')].filter(Boolean).join(' ');

export function renderTable(scan: ScanResult, now = new Date()): string {
  const header = ['PATH', 'SUBJECT CN', 'NOT AFTER', 'DAYS', 'KEY', 'STATUS'];
  const rows = [...scan.certificates]
    .sort((a, b) => (a.notAfter?.getTime() ?? 0) - (b.notAfter?.getTime() ?? 0))
    .map((c) => {
      const days = daysLeft(c, now);
      return [`${c.file?.path ?? ''}#${c.entry}`, commonName(c.subject), c.notAfter?.toISOString().slice(0, 10) ?? '', String(days), keyLabel(c), expiryStatus(days)];
    });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  if (scan.problems.length) {
    out.push('', 'PROBLEMS');
    for (const p of scan.problems) out.push(`${p.path}: ${p.kind}: ${p.reason}`);
  }
  const counts = { EXPIRED: 0, CRITICAL: 0, WARNING: 0, OK: 0 };
  for (const c of scan.certificates) counts[expiryStatus(daysLeft(c, now))]++;
  const s = scan.stats;
  out.push(
    '',
    `${s.certificates} certificates (${counts.EXPIRED} expired, ${counts.CRITICAL} critical, ${counts.WARNING} warning, ${counts.OK} ok), ` +
      `${s.privateKeys} private keys, ${s.problems} problems in ${s.filesSeen} files, ${s.durationMs} ms`,
  );
  return out.join('\n');
}

/** One JSON document: DER as base64, dates as ISO strings, byte sizes as numbers. */
export function renderJson(scan: ScanResult): string {
  const doc = { ...scan, certificates: scan.certificates.map((c) => ({ ...c, der: c.der.toString('base64') })) };
  return JSON.stringify(doc, (_key, value) => (typeof value === 'bigint' ? Number(value) : value), 2);
}
