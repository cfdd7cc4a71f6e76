import { ApiSettings, callApi } from '../api/api-client';
import { listFlag, parseCommandArgs, usageError } from './cli-args';
import { commonName, shortDate, table } from './format';

export const CERTS_USAGE = `Usage:
  certfleet certs [list] [--expiring 30d] [--agent ID|HOSTNAME] [--issuer TEXT] [--status OK|WARNING|CRITICAL|EXPIRED]
        [--revocation good|revoked|unknown|unreachable] [--limit N] [--json]
        Certificates from the ACME server that no agent has found on a host are listed at host acme:<CA name>.
  certfleet certs check-revocation [--fingerprint SHA256...] [--json]
        Checks OCSP (then the CRL) now for the given certificates, or for all of them.`;

export interface RevocationView {
  status: string;
  reason: string | null;
}

export interface CertRow {
  hostname: string;
  path: string;
  entry: string;
  fingerprintSha256: string;
  subject: string;
  issuer: string;
  notAfter: string;
  daysLeft: number;
  status: string;
  revocation?: RevocationView | null;
}

export interface RevocationCheckRun {
  checked: number;
  counts: { good: number; revoked: number; unknown: number; unreachable: number };
  remaining: number;
}

/** certfleet certs [list] [filters] | certfleet certs check-revocation (plain `certs [filters]` is kept for scripts). */
export async function certsCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith('-')) return listCommand(args, api);
  switch (first) {
    case 'list':
      return listCommand(rest, api);
    case 'check-revocation':
      return checkRevocationCommand(rest, api);
    case 'help':
      console.log(CERTS_USAGE);
      return 0;
    default:
      throw usageError(`unknown certs command "${first}"`, CERTS_USAGE);
  }
}

async function listCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs(
    {
      args,
      options: {
        expiring: { type: 'string' },
        agent: { type: 'string' },
        issuer: { type: 'string' },
        status: { type: 'string' },
        revocation: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
    },
    CERTS_USAGE,
  );
  const query = new URLSearchParams();
  for (const key of ['expiring', 'agent', 'issuer', 'status', 'revocation', 'limit'] as const) if (values[key]) query.set(key, values[key]!);
  const { total, items } = await callApi<{ total: number; items: CertRow[] }>(api(), 'GET', `/api/v1/certificates?${query}`);
  if (values.json) {
    console.log(JSON.stringify({ total, items }, null, 2));
    return 0;
  }
  console.log(
    table(
      ['STATUS', 'NOT AFTER', 'DAYS', 'REVOCATION', 'HOST', 'SUBJECT CN', 'ISSUER CN', 'LOCATION', 'SHA-256'],
      items.map((c) => [
        c.status,
        shortDate(c.notAfter),
        String(c.daysLeft),
        revocationCell(c.revocation),
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

/** "good", "revoked (keyCompromise)", ...; "-" until the server has checked the certificate. */
export function revocationCell(revocation: RevocationView | null | undefined): string {
  if (!revocation) return '-';
  return revocation.status === 'revoked' && revocation.reason ? `revoked (${revocation.reason})` : revocation.status;
}

async function checkRevocationCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { fingerprint: { type: 'string', multiple: true }, json: { type: 'boolean' } } }, CERTS_USAGE);
  const fingerprints = listFlag(values.fingerprint);
  const run = await callApi<RevocationCheckRun>(api(), 'POST', '/api/v1/inventory/revocation-check', fingerprints.length ? { fingerprints } : {});
  console.log(values.json ? JSON.stringify(run, null, 2) : describeRun(run));
  return 0;
}

export function describeRun(run: RevocationCheckRun): string {
  const { good, revoked, unknown, unreachable } = run.counts;
  const line = `checked ${run.checked} certificate(s): ${good} good, ${revoked} revoked, ${unknown} unknown, ${unreachable} unreachable`;
  return run.remaining > 0 ? `${line}\n${run.remaining} more not checked in this run: run it again, or the server's background pass will take them` : line;
}
