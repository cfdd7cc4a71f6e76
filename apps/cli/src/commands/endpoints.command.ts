import { ApiSettings, callApi } from '../api/api-client';
import { onePositional, parseCommandArgs, usageError } from './cli-args';
import { shortDate, shortTime, table } from './format';

export const ENDPOINTS_USAGE = `usage:
  certfleet endpoints add HOST:PORT [--sni NAME] [--agent ID|HOSTNAME] [--probe-from ID|HOSTNAME] [--json]
        probed on a schedule by the server, or with --probe-from by that agent (endpoints only
        its network reaches); --agent names the host's agent, so the served certificate is
        linked to the file it came from.
  certfleet endpoints list [--agent ID|HOSTNAME] [--json]    latest observations (--agent: the
        listeners that agent found on its host)
  certfleet endpoints targets [--json]
  certfleet endpoints show HOST:PORT[/SNI] [--json]
  certfleet endpoints probe [TARGET-ID] [--json]             probe now (all targets without an id)
  certfleet endpoints remove TARGET-ID`;

export interface ObservationRow {
  host: string;
  port: number;
  serverName: string;
  targetId: string | null;
  probedBy: string;
  probedAt: string;
  process: string | null;
  tls: boolean;
  error: string | null;
  protocol: string | null;
  cipher: string | null;
  hostnameMatch: boolean;
  hostnameError: string | null;
  chainValid: boolean;
  chainError: string | null;
  ocspStatus: string | null;
  notAfter: string | null;
  acceptedVersions: string[] | null;
  leafFingerprintSha256: string | null;
  chain: Array<{ subject: string; issuer: string; notAfter: string; fingerprintSha256: string }>;
  linkedFiles: Array<{ hostname: string; path: string }>;
}

interface TargetRow {
  id: string;
  host: string;
  port: number;
  serverName: string;
  hostAgentId: string | null;
  probeAgentId: string | null;
  probedBy: string;
  nextProbeAt: string;
}

/** certfleet endpoints: TLS endpoints the server probes and listeners agents find. */
export async function endpointsCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(rest, api);
    case 'list':
      return list(rest, api);
    case 'targets':
      return targets(rest, api);
    case 'show':
      return show(rest, api);
    case 'probe':
      return probe(rest, api);
    case 'remove':
      return remove(rest, api);
    case 'help':
    case '--help':
      console.log(ENDPOINTS_USAGE);
      return 0;
    default:
      throw usageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is required', ENDPOINTS_USAGE);
  }
}

/** "host:port", "[v6]:port", with an optional "/sni". */
export function parseAddress(text: string): { host: string; port: number; serverName: string } {
  const m = /^(\[[^\]]+\]|[^:/\s]+):(\d{1,5})(?:\/([^\s/]+))?$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw usageError(`expected HOST:PORT[/SNI], got "${text}"`, ENDPOINTS_USAGE);
  return { host: m[1].replace(/^\[|\]$/g, '').toLowerCase(), port: Number(m[2]), serverName: (m[3] ?? '').toLowerCase() };
}

async function add(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { sni: { type: 'string' }, agent: { type: 'string' }, 'probe-from': { type: 'string' }, json: { type: 'boolean' } } }, ENDPOINTS_USAGE);
  const address = parseAddress(onePositional(positionals, 'HOST:PORT', ENDPOINTS_USAGE));
  const target = await callApi<TargetRow>(api(), 'POST', '/api/v1/endpoints/targets', {
    host: address.host, port: address.port, serverName: values.sni ?? address.serverName, ...(values.agent ? { agent: values.agent } : {}),
    ...(values['probe-from'] ? { probeFrom: values['probe-from'] } : {}),
  });
  if (values.json) console.log(JSON.stringify(target, null, 2));
  else console.log(`added ${describe(target)} (id ${target.id}); "certfleet endpoints probe ${target.id}" probes it now`);
  return 0;
}

/** One line of what is wrong with an endpoint, or "ok". */
export function verdict(o: ObservationRow, now = new Date()): string {
  if (!o.tls) return o.error ?? 'no TLS handshake';
  const problems: string[] = [];
  if (o.notAfter && new Date(o.notAfter).getTime() <= now.getTime()) problems.push('expired');
  if (!o.chainValid) problems.push(`chain: ${o.chainError}`);
  if (!o.hostnameMatch) problems.push('name mismatch');
  if (o.protocol === 'TLSv1' || o.protocol === 'TLSv1.1') problems.push(`old protocol ${o.protocol}`);
  if (o.ocspStatus === 'revoked') problems.push('OCSP: revoked');
  return problems.length ? problems.join('; ') : 'ok';
}

async function list(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { agent: { type: 'string' }, json: { type: 'boolean' } } }, ENDPOINTS_USAGE);
  if (positionals.length) throw usageError(`unexpected argument ${positionals[0]}`, ENDPOINTS_USAGE);
  const rows = await callApi<ObservationRow[]>(api(), 'GET', `/api/v1/endpoints${values.agent ? `?agent=${encodeURIComponent(values.agent)}` : ''}`);
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else if (!rows.length) console.log('no endpoint observed yet');
  else
    console.log(
      table(
        ['ENDPOINT', 'BY', 'TLS', 'EXPIRES', 'FILE', 'STATUS'],
        rows.map((o) => [describe(o), o.probedBy, o.tls ? (o.protocol ?? '') : '-', shortDate(o.notAfter), o.linkedFiles.map((f) => `${f.hostname}:${f.path}`).join(', ') || '-', verdict(o)]),
      ),
    );
  return 0;
}

async function targets(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, ENDPOINTS_USAGE);
  const rows = await callApi<TargetRow[]>(api(), 'GET', '/api/v1/endpoints/targets');
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(rows.length ? table(['ID', 'ENDPOINT', 'PROBED BY', 'NEXT PROBE'], rows.map((t) => [t.id, describe(t), t.probedBy, shortTime(t.nextProbeAt)])) : 'no targets');
  return 0;
}

async function show(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }, ENDPOINTS_USAGE);
  const wanted = parseAddress(onePositional(positionals, 'HOST:PORT[/SNI]', ENDPOINTS_USAGE));
  const rows = (await callApi<ObservationRow[]>(api(), 'GET', '/api/v1/endpoints')).filter(
    (o) => o.host === wanted.host && o.port === wanted.port && (!wanted.serverName || o.serverName === wanted.serverName),
  );
  if (!rows.length) throw usageError(`no observation of ${positionals[0]}`, ENDPOINTS_USAGE);
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  for (const o of rows) {
    console.log(`${describe(o)}  probed by ${o.probedBy} at ${shortTime(o.probedAt)}${o.process ? `  (${o.process})` : ''}`);
    console.log(`  status:    ${verdict(o)}`);
    if (o.tls) {
      console.log(`  protocol:  ${o.protocol} ${o.cipher ?? ''}${o.acceptedVersions ? `  (accepts ${o.acceptedVersions.join(', ')})` : ''}`);
      console.log(`  name:      ${o.hostnameMatch ? 'matches' : o.hostnameError}`);
      console.log(`  chain:     ${o.chainValid ? 'valid' : o.chainError}`);
      console.log(`  OCSP:      ${o.ocspStatus ?? 'not stapled'}`);
      for (const [i, c] of o.chain.entries()) console.log(`  [${i}] ${c.subject}  (issuer ${c.issuer}; until ${shortDate(c.notAfter)})`);
      for (const f of o.linkedFiles) console.log(`  file:      ${f.hostname}:${f.path}`);
    }
  }
  return 0;
}

async function probe(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }, ENDPOINTS_USAGE);
  if (positionals.length > 1) throw usageError(`unexpected argument ${positionals[1]}`, ENDPOINTS_USAGE);
  const run = await callApi<{ probed: number; tls: number; failed: number }>(api(), 'POST', '/api/v1/endpoints/probe', positionals[0] ? { targetId: positionals[0] } : {});
  if (values.json) console.log(JSON.stringify(run, null, 2));
  else console.log(`probed ${run.probed} endpoint(s): ${run.tls} answered TLS, ${run.failed} did not`);
  return 0;
}

async function remove(args: string[], api: () => ApiSettings): Promise<number> {
  const { positionals } = parseCommandArgs({ args, allowPositionals: true, options: {} }, ENDPOINTS_USAGE);
  const id = onePositional(positionals, 'TARGET-ID', ENDPOINTS_USAGE);
  await callApi(api(), 'DELETE', `/api/v1/endpoints/targets/${encodeURIComponent(id)}`);
  console.log(`removed target ${id}`);
  return 0;
}

function describe(t: { host: string; port: number; serverName: string }): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${host}:${t.port}${t.serverName ? `/${t.serverName}` : ''}`;
}
