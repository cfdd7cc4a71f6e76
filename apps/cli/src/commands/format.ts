/** A plain text table: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Parses a duration like 30s, 15m, 1h, 7d into seconds. */
export function parseDurationSeconds(value: string): number {
  const m = /^(\d+)\s*([smhd])$/i.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a duration like 30m, 1h or 7d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
}

export function shortDate(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '-';
}

export function commonName(dn: string): string {
  const m = /(?:^|,\s*)CN=((?:\\.|[^,])*)/.exec(dn);
  return m ? m[1].replace(/\\(.)/g, '$1') : dn;
}

/** An ISO 8601 time as "YYYY-MM-DD HH:MM:SS" (UTC), or "-". */
export function shortTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '-';
}

/**
 * A --since value as an ISO time: an ISO 8601 date or time (2026-03-01, 2026-03-01T12:00:00Z), or a
 * duration back from `now` (30d, 12h, 15m, 45s).
 */
export function parseSince(value: string, now: Date = new Date()): string {
  const text = value.trim();
  if (/^\d+\s*[smhd]$/i.test(text)) return new Date(now.getTime() - parseDurationSeconds(text) * 1000).toISOString();
  const m = /^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(text);
  const at = m ? new Date(text) : undefined;
  // Date() rolls 2026-02-30 over to March: refuse a day the month does not have.
  const realDay = m && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDate() === Number(m[3]);
  if (!at || !realDay || Number.isNaN(at.getTime())) throw new Error(`"${value}" is neither an ISO 8601 time (2026-03-01T12:00:00Z) nor a duration like 30d or 12h`);
  return at.toISOString();
}
