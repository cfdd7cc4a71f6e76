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
