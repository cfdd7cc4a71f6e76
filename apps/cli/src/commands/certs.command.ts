import { parseArgs } from 'node:util';
import { ApiSettings, callApi } from '../api/api-client';
import { commonName, shortDate, table } from './format';

interface CertRow {
  hostname: string;
  path: string;
  entry: string;
  fingerprintSha256: string;
  subject: string;
  issuer: string;
  notAfter: string;
  daysLeft: number;
  status: string;
}

/** certfleet certs [--expiring 30d] [--agent ID|HOST] [--issuer TEXT] [--status S] [--limit N] [--json] */
export async function certsCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      expiring: { type: 'string' },
      agent: { type: 'string' },
      issuer: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const query = new URLSearchParams();
  for (const key of ['expiring', 'agent', 'issuer', 'status', 'limit'] as const) if (values[key]) query.set(key, values[key]!);
  const { total, items } = await callApi<{ total: number; items: CertRow[] }>(api(), 'GET', `/api/v1/certificates?${query}`);
  if (values.json) {
    console.log(JSON.stringify({ total, items }, null, 2));
    return 0;
  }
  console.log(
    table(
      ['STATUS', 'NOT AFTER', 'DAYS', 'HOST', 'SUBJECT CN', 'ISSUER CN', 'LOCATION', 'SHA-256'],
      items.map((c) => [
        c.status,
        shortDate(c.notAfter),
        String(c.daysLeft),
        c.hostname,
        commonName(c.subject),
        commonName(c.issuer),
        c.entry && c.entry !== '0' ? `${c.path}#${c.entry}` : c.path,
        c.fingerprintSha256.slice(0, 16),
      ]),
    ),
  );
  const counts = ['EXPIRED', 'CRITICAL', 'WARNING', 'OK'].map((s) => `${items.filter((c) => c.status === s).length} ${s}`);
  console.log(`\n${items.length} of ${total} certificate(s): ${counts.join(', ')}`);
  return 0;
}
