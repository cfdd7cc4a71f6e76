import { readFileSync } from 'node:fs';
import { ApiSettings, callApi } from '../api/api-client';
import { onePositional, parseCommandArgs, usageError } from './cli-args';
import { shortDate, shortTime, table } from './format';

export const CT_USAGE = `usage:
  certfleet ct watch add DOMAIN          watch DOMAIN and its subdomains in the configured CT logs
  certfleet ct watch list [--json]
  certfleet ct watch remove DOMAIN
  certfleet ct findings [--json]         certificates for watched domains that certfleet does not know
  certfleet ct logs add --name N --url URL --key-file FILE    (FILE: the log key, PEM or base64 DER)
  certfleet ct logs list [--json]
  certfleet ct poll [--json]             poll every log now (normally on a schedule)
  certfleet ct scts FINGERPRINT [--json] the SCTs embedded in an inventory certificate, their logs, and
                                         whether each signature verifies (valid, invalid, unknown log,
                                         issuer unknown: the issuing CA is not in the inventory)`;

interface FindingRow {
  kind: string;
  domain: string;
  dnsNames: string[];
  serial: string;
  issuer: string;
  notAfter: string;
  loggedAt: string;
  entryIndex: string | number;
  fingerprintSha256: string | null;
}

/** certfleet ct: Certificate Transparency monitoring of watched domains. */
export async function ctCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, action, ...rest] = args;
  if (sub === 'watch' && action === 'add') return watchAdd(rest, api);
  if (sub === 'watch' && action === 'list') return watchList(rest, api);
  if (sub === 'watch' && action === 'remove') return watchRemove(rest, api);
  if (sub === 'findings') return findings(action === undefined ? rest : [action, ...rest], api);
  if (sub === 'logs' && action === 'add') return logsAdd(rest, api);
  if (sub === 'logs' && action === 'list') return logsList(rest, api);
  if (sub === 'poll') return poll(action === undefined ? rest : [action, ...rest], api);
  if (sub === 'scts') return scts(action === undefined ? rest : [action, ...rest], api);
  if (sub === 'help' || sub === '--help') {
    console.log(CT_USAGE);
    return 0;
  }
  throw usageError(sub ? `unknown subcommand "${[sub, action].filter(Boolean).join(' ')}"` : 'a subcommand is required', CT_USAGE);
}

async function watchAdd(args: string[], api: () => ApiSettings): Promise<number> {
  const { positionals } = parseCommandArgs({ args, allowPositionals: true, options: {} }, CT_USAGE);
  const watched = await callApi<{ domain: string }>(api(), 'POST', '/api/v1/ct/watched', { domain: onePositional(positionals, 'DOMAIN', CT_USAGE) });
  console.log(`watching ${watched.domain} and its subdomains`);
  return 0;
}

async function watchList(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, CT_USAGE);
  const rows = await callApi<Array<{ domain: string; createdAt: string }>>(api(), 'GET', '/api/v1/ct/watched');
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(rows.length ? table(['DOMAIN', 'SINCE'], rows.map((r) => [r.domain, shortTime(r.createdAt)])) : 'no domain watched');
  return 0;
}

async function watchRemove(args: string[], api: () => ApiSettings): Promise<number> {
  const { positionals } = parseCommandArgs({ args, allowPositionals: true, options: {} }, CT_USAGE);
  const domain = onePositional(positionals, 'DOMAIN', CT_USAGE);
  await callApi(api(), 'DELETE', `/api/v1/ct/watched/${encodeURIComponent(domain)}`);
  console.log(`no longer watching ${domain}`);
  return 0;
}

async function findings(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, CT_USAGE);
  const rows = await callApi<FindingRow[]>(api(), 'GET', '/api/v1/ct/findings');
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else
    console.log(
      rows.length
        ? table(['NAMES', 'KIND', 'ISSUER', 'SERIAL', 'EXPIRES', 'LOGGED'], rows.map((r) => [r.dnsNames.join(', '), r.kind, r.issuer, r.serial, shortDate(r.notAfter), shortTime(r.loggedAt)]))
        : 'no unknown certificates for watched domains',
    );
  return 0;
}

async function logsAdd(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    { args, allowPositionals: true, options: { name: { type: 'string' }, url: { type: 'string' }, 'key-file': { type: 'string' }, json: { type: 'boolean' } } },
    CT_USAGE,
  );
  if (positionals.length) throw usageError(`unexpected argument ${positionals[0]}`, CT_USAGE);
  if (!values.name || !values.url || !values['key-file']) throw usageError('--name, --url and --key-file are required', CT_USAGE);
  const publicKey = readFileSync(values['key-file'], 'utf8').trim();
  const log = await callApi<{ id: string; name: string; logId: string }>(api(), 'POST', '/api/v1/ct/logs', { name: values.name, url: values.url, publicKey });
  if (values.json) console.log(JSON.stringify(log, null, 2));
  else console.log(`added log ${log.name} (log id ${log.logId})`);
  return 0;
}

async function logsList(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, CT_USAGE);
  const rows = await callApi<Array<{ name: string; url: string; treeSize: string; nextIndex: string; polledAt: string | null; lastError: string | null }>>(api(), 'GET', '/api/v1/ct/logs');
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(rows.length ? table(['NAME', 'URL', 'READ', 'POLLED', 'ERROR'], rows.map((r) => [r.name, r.url, `${r.nextIndex}/${r.treeSize}`, shortTime(r.polledAt), r.lastError ?? '-'])) : 'no CT logs configured');
  return 0;
}

async function poll(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, CT_USAGE);
  const results = await callApi<Array<{ log: string; read: number; findings: number; treeSize: number; nextIndex: number; error?: string }>>(api(), 'POST', '/api/v1/ct/poll', {});
  if (values.json) console.log(JSON.stringify(results, null, 2));
  else for (const r of results) console.log(r.error ? `${r.log}: ${r.error}` : `${r.log}: read ${r.read} entries (${r.nextIndex}/${r.treeSize}), ${r.findings} unknown certificate(s)`);
  return 0;
}

async function scts(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }, CT_USAGE);
  const fingerprint = onePositional(positionals, 'FINGERPRINT', CT_USAGE);
  const rows = await callApi<Array<{ logId: string; logName: string | null; timestamp: string; signatureAlgorithm: string; status?: string; reason?: string }>>(api(), 'GET', `/api/v1/ct/scts/${encodeURIComponent(fingerprint)}`);
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else if (!rows.length) console.log('no embedded SCTs');
  else {
    // Why an SCT is not valid, under the table (too long for a column).
    const reasons = rows.filter((r) => r.reason).map((r) => `${r.logName ?? r.logId}: ${r.reason}`);
    const listed = table(['LOG', 'STATUS', 'LOG ID', 'TIMESTAMP', 'SIGNATURE'], rows.map((r) => [r.logName ?? 'unknown log', r.status ?? '-', r.logId, shortTime(r.timestamp), r.signatureAlgorithm]));
    console.log(reasons.length ? `${listed}\n\n${reasons.join('\n')}` : listed);
  }
  return 0;
}
