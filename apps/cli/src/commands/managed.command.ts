import type { TargetSpec } from '@certfleet/targets';
import { ApiSettings, callApi, CliError } from '../api/api-client';
import { intFlag, isUuid, listFlag, onePositional, parseCommandArgs, usageError } from './cli-args';
import { shortTime, table } from './format';
import { CHALLENGE_HELP, describeTarget, parseChallengeSpec, parseTargetSpec, parseValidateFlag, SpecError, TARGET_HELP, ValidationBody } from './managed-args';

export const MANAGED_USAGE = `usage:
  certfleet managed add --name NAME --agent ID|HOSTNAME [--issuer CA | --issuer acme:NAME --challenge SPEC]
        --dns NAME... [--ip IP...] [--key-type ec-p256|ec-p384|rsa-2048|rsa-3072|rsa-4096] [--validity-days N]
        [--usage tls-server|tls-client|code-signing]... [--cn CN] --target SPEC...
        [--reload CMD] [--reload-timeout S] [--validate host:port[/sni]] [--renew-before-days N] [--json]
  certfleet managed adopt --agent ID|HOSTNAME --fingerprint SHA256 [--name NAME] [--issuer CA]
        [--reload CMD] [--reload-timeout S] [--validate host:port[/sni]] [--renew-before-days N]
        [--target SPEC...] [--json]          (default targets: the files the certificate is in now)
  certfleet managed list [--agent ID|HOSTNAME] [--status pending|active|failing] [--json]
  certfleet managed show ID|NAME [--json]
  certfleet managed renew-now ID|NAME [--json]
  certfleet managed renew-now --all | [--issuer CA] [--agent ID|HOSTNAME] [--json]
                                             (many at once: all, or those of a CA and/or an agent)
  certfleet managed remove ID|NAME              (stops managing; installed files stay in place)

--dns, --ip and --usage may be repeated or comma-separated. --issuer defaults to the only active
issuing CA. --reload runs with /bin/sh -c on the agent's host after install; --validate then checks
the TLS endpoint and rolls back when it does not serve the new certificate.

${TARGET_HELP}

${CHALLENGE_HELP}`;

interface Job {
  id: string;
  reason: string;
  state: string;
  attempt: number;
  stage: string | null;
  error: string | null;
  issuedSerial: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface ManagedView {
  id: string;
  name: string;
  agentId: string;
  hostname: string | null;
  issuer: { kind: string; issuingCaId: string | null; name: string | null; challenge?: Record<string, unknown> | null };
  profile: { keyType: string; commonName?: string; dnsNames: string[]; ipAddresses: string[]; validityDays: number; usages: string[] };
  targets: Record<string, unknown>[];
  reloadCommand: string;
  reloadTimeoutSeconds: number;
  validation: { host: string; port: number; serverName?: string; timeoutSeconds?: number } | null;
  renewBeforeDays: number | null;
  status: string;
  currentSerial: string | null;
  currentFingerprint: string | null;
  notBefore: string | null;
  notAfter: string | null;
  nextRenewalAt: string | null;
  failureCount: number;
  lastError: string | null;
  adoptedFrom: string | null;
  openJob: { id: string; state: string; attempt: number; createdAt: string } | null;
  jobs?: Job[];
}

interface AgentRow {
  id: string;
  hostname: string;
}

const managedPath = (idOrName: string, suffix = '') => `/api/v1/managed-certificates/${encodeURIComponent(idOrName)}${suffix}`;

/** certfleet managed add | adopt | list | show | renew-now | remove */
export async function managedCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(rest, api);
    case 'adopt':
      return adopt(rest, api);
    case 'list':
      return list(rest, api);
    case 'show':
      return show(rest, api);
    case 'renew-now':
      return renewNow(rest, api);
    case 'remove':
      return remove(rest, api);
    case 'help':
    case '--help':
    case '-h':
      console.log(MANAGED_USAGE);
      return 0;
    default:
      throw usageError(sub ? `unknown managed command "${sub}"` : 'a managed command is required', MANAGED_USAGE);
  }
}

/** Options add and adopt share: what happens on the host after install, and when to renew. */
const DEPLOY_OPTIONS = {
  issuer: { type: 'string' },
  target: { type: 'string', multiple: true },
  reload: { type: 'string' },
  'reload-timeout': { type: 'string' },
  validate: { type: 'string' },
  'renew-before-days': { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface DeployValues {
  issuer?: string;
  target?: string[];
  reload?: string;
  'reload-timeout'?: string;
  validate?: string;
  'renew-before-days'?: string;
}

/** The request fields --issuer, --target, --reload, --validate... give; targets only when named. */
export function deployBody(values: DeployValues, readSecret?: (path: string) => string): Record<string, unknown> {
  let targets: TargetSpec[] | undefined;
  let validation: ValidationBody | undefined;
  try {
    targets = values.target?.length ? values.target.map((t) => parseTargetSpec(t, readSecret)) : undefined;
    validation = values.validate === undefined ? undefined : parseValidateFlag(values.validate);
  } catch (err) {
    if (err instanceof SpecError) throw usageError(err.message, MANAGED_USAGE);
    throw err;
  }
  const reloadTimeoutSeconds = intFlag(values['reload-timeout'], '--reload-timeout', MANAGED_USAGE);
  const renewBeforeDays = intFlag(values['renew-before-days'], '--renew-before-days', MANAGED_USAGE);
  return {
    ...(values.issuer ? { issuer: values.issuer } : {}),
    ...(targets ? { targets } : {}),
    ...(values.reload !== undefined ? { reloadCommand: values.reload } : {}),
    ...(reloadTimeoutSeconds !== undefined ? { reloadTimeoutSeconds } : {}),
    ...(validation ? { validation } : {}),
    ...(renewBeforeDays !== undefined ? { renewBeforeDays } : {}),
  };
}

/** The JSON body of `managed add` from its flags (exported for the unit tests). */
export function addBody(args: string[], readSecret?: (path: string) => string): { body: Record<string, unknown>; json: boolean } {
  const { values } = parseCommandArgs(
    {
      args,
      options: {
        ...DEPLOY_OPTIONS,
        name: { type: 'string' },
        agent: { type: 'string' },
        dns: { type: 'string', multiple: true },
        ip: { type: 'string', multiple: true },
        'key-type': { type: 'string' },
        'validity-days': { type: 'string' },
        usage: { type: 'string', multiple: true },
        cn: { type: 'string' },
        challenge: { type: 'string' },
      },
    },
    MANAGED_USAGE,
  );
  let challenge: Record<string, unknown> | undefined;
  try {
    challenge = values.challenge ? parseChallengeSpec(values.challenge, readSecret) : undefined;
  } catch (err) {
    if (err instanceof SpecError) throw usageError(err.message, MANAGED_USAGE);
    throw err;
  }
  if (!values.name) throw usageError('--name is required', MANAGED_USAGE);
  if (!values.agent) throw usageError('--agent ID|HOSTNAME is required', MANAGED_USAGE);
  const dnsNames = listFlag(values.dns);
  const ipAddresses = listFlag(values.ip);
  if (dnsNames.length + ipAddresses.length === 0) throw usageError('at least one --dns NAME or --ip IP is required', MANAGED_USAGE);
  if (!values.target?.length) throw usageError('at least one --target SPEC is required: where the agent installs the certificate', MANAGED_USAGE);
  const validityDays = intFlag(values['validity-days'], '--validity-days', MANAGED_USAGE);
  const usages = listFlag(values.usage);
  const profile = {
    ...(values['key-type'] ? { keyType: values['key-type'] } : {}),
    ...(values.cn ? { commonName: values.cn } : {}),
    dnsNames,
    ipAddresses,
    ...(validityDays !== undefined ? { validityDays } : {}),
    ...(usages.length ? { usages } : {}),
  };
  return { body: { name: values.name, agentId: values.agent, profile, ...deployBody(values, readSecret), ...(challenge ? { challenge } : {}) }, json: !!values.json };
}

async function add(args: string[], api: () => ApiSettings): Promise<number> {
  const { body, json } = addBody(args);
  const created = await callApi<ManagedView>(api(), 'POST', '/api/v1/managed-certificates', body);
  if (json) console.log(JSON.stringify(created, null, 2));
  else {
    console.log(`managed certificate "${created.name}" created: ${created.id} (${created.status})`);
    console.log(`agent ${created.hostname ?? created.agentId}, issuer ${created.issuer.name ?? '-'}; it is issued and installed as soon as the agent is connected`);
    console.log(`follow it with: certfleet managed show ${created.name}`);
  }
  return 0;
}

/** An agent hostname as its id (the list filter and adopt need the id); ids pass through. */
async function agentId(settings: ApiSettings, idOrHostname: string): Promise<string> {
  if (isUuid(idOrHostname)) return idOrHostname;
  const agents = await callApi<AgentRow[]>(settings, 'GET', '/api/v1/agents');
  const matches = agents.filter((a) => a.hostname === idOrHostname);
  if (matches.length === 1) return matches[0].id;
  if (matches.length === 0) throw new CliError(`no enrolled agent "${idOrHostname}" (certfleet agents lists them)`);
  throw new CliError(`several agents have the hostname "${idOrHostname}" (${matches.map((a) => a.id).join(', ')}): give the id`);
}

async function adopt(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { ...DEPLOY_OPTIONS, agent: { type: 'string' }, fingerprint: { type: 'string' }, name: { type: 'string' } } }, MANAGED_USAGE);
  if (!values.agent) throw usageError('--agent ID|HOSTNAME is required', MANAGED_USAGE);
  if (!values.fingerprint) throw usageError('--fingerprint SHA256 is required (the SHA-256 column of certfleet certs)', MANAGED_USAGE);
  if (!/^([0-9a-f]{64}|([0-9a-f]{2}:){31}[0-9a-f]{2})$/i.test(values.fingerprint.trim())) {
    throw usageError(`--fingerprint must be a SHA-256 fingerprint: 64 hex digits, with or without colons; got "${values.fingerprint}"`, MANAGED_USAGE);
  }
  const deploy = deployBody(values);
  const settings = api();
  const body = { agentId: await agentId(settings, values.agent), fingerprint: values.fingerprint.trim(), ...(values.name ? { name: values.name } : {}), ...deploy };
  const adopted = await callApi<ManagedView>(settings, 'POST', '/api/v1/managed-certificates/adopt', body);
  if (values.json) console.log(JSON.stringify(adopted, null, 2));
  else {
    console.log(`adopted as managed certificate "${adopted.name}": ${adopted.id} (${adopted.status})`);
    console.log(`installed at: ${adopted.targets.map(describeTarget).join('; ')}`);
    console.log(`current certificate serial ${adopted.currentSerial ?? '-'}, not after ${shortTime(adopted.notAfter)}; renewed from ${shortTime(adopted.nextRenewalAt)}`);
  }
  return 0;
}

async function list(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { agent: { type: 'string' }, status: { type: 'string' }, json: { type: 'boolean' } } }, MANAGED_USAGE);
  if (values.status && !['pending', 'active', 'failing'].includes(values.status)) {
    throw usageError(`--status must be pending, active or failing, got "${values.status}"`, MANAGED_USAGE);
  }
  const settings = api();
  const query = new URLSearchParams();
  if (values.agent) query.set('agentId', await agentId(settings, values.agent));
  if (values.status) query.set('status', values.status);
  const items = await callApi<ManagedView[]>(settings, 'GET', `/api/v1/managed-certificates${query.size ? `?${query}` : ''}`);
  if (values.json) {
    console.log(JSON.stringify(items, null, 2));
    return 0;
  }
  console.log(
    table(
      ['NAME', 'HOST', 'STATUS', 'SERIAL', 'NOT AFTER', 'NEXT RENEWAL', 'FAILURES'],
      items.map((m) => [
        m.name,
        m.hostname ?? m.agentId,
        m.openJob ? `${m.status} (job ${m.openJob.state})` : m.status,
        m.currentSerial ?? '-',
        shortTime(m.notAfter),
        shortTime(m.nextRenewalAt),
        String(m.failureCount),
      ]),
    ),
  );
  const failing = items.filter((m) => m.status === 'failing').length;
  console.log(`\n${items.length} managed certificate(s)${failing ? `, ${failing} failing` : ''}`);
  return 0;
}

function printDetail(m: ManagedView): void {
  const v = m.validation;
  const rows: [string, string][] = [
    ['id', m.id],
    ['name', m.name],
    ['status', m.status],
    ['agent', `${m.hostname ?? '-'} (${m.agentId})`],
    ['issuer', m.issuer.name ?? m.issuer.issuingCaId ?? '-'],
    ...(m.issuer.challenge ? [['challenge', Object.entries(m.issuer.challenge).map(([k, v]) => `${k}=${String(v)}`).join(', ')] as [string, string]] : []),
    ['key type', m.profile.keyType],
    ['common name', m.profile.commonName ?? '-'],
    ['DNS names', m.profile.dnsNames.join(', ') || '-'],
    ['IP addresses', m.profile.ipAddresses.join(', ') || '-'],
    ['validity', `${m.profile.validityDays} days`],
    ['usages', m.profile.usages.join(', ')],
    ['reload', m.reloadCommand ? `${m.reloadCommand} (timeout ${m.reloadTimeoutSeconds}s)` : '-'],
    ['validate', v ? `${v.host}:${v.port}${v.serverName ? `/${v.serverName}` : ''}` : '-'],
    ['renew', m.renewBeforeDays === null ? 'at 2/3 of the lifetime' : `${m.renewBeforeDays} days before expiry`],
    ['serial', m.currentSerial ?? '-'],
    ['SHA-256', m.currentFingerprint ?? '-'],
    ['not before', shortTime(m.notBefore)],
    ['not after', shortTime(m.notAfter)],
    ['next renewal', shortTime(m.nextRenewalAt)],
    ['failures', String(m.failureCount)],
    ['last error', m.lastError ?? '-'],
    ...(m.adoptedFrom ? ([['adopted from', m.adoptedFrom]] as [string, string][]) : []),
    ...(m.openJob ? ([['open job', `${m.openJob.id} (${m.openJob.state}, attempt ${m.openJob.attempt})`]] as [string, string][]) : []),
  ];
  for (const [k, val] of rows) console.log(`${`${k}:`.padEnd(14)}${val}`);
  console.log('targets:');
  for (const t of m.targets) console.log(`  ${describeTarget(t)}`);
}

async function show(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }, MANAGED_USAGE);
  const idOrName = onePositional(positionals, 'the managed certificate (ID or NAME)', MANAGED_USAGE);
  const m = await callApi<ManagedView>(api(), 'GET', managedPath(idOrName));
  if (values.json) {
    console.log(JSON.stringify(m, null, 2));
    return 0;
  }
  printDetail(m);
  const jobs = m.jobs ?? [];
  console.log(`\nrecent jobs (${jobs.length}, newest first):`);
  if (jobs.length === 0) console.log('  none yet');
  else {
    console.log(
      table(
        ['CREATED', 'REASON', 'STATE', 'ATTEMPT', 'STAGE', 'SERIAL', 'ERROR'],
        jobs.map((j) => [shortTime(j.createdAt), j.reason, j.state, String(j.attempt), j.stage ?? '-', j.issuedSerial ?? '-', j.error ?? '']),
      ),
    );
  }
  return 0;
}

async function renewNow(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    { args, allowPositionals: true, options: { json: { type: 'boolean' }, all: { type: 'boolean' }, issuer: { type: 'string' }, agent: { type: 'string' } } },
    MANAGED_USAGE,
  );
  if (values.all || values.issuer || values.agent) {
    if (positionals.length) throw usageError('give either one certificate (ID or NAME) or --all / --issuer / --agent, not both', MANAGED_USAGE);
    const settings = api();
    const body = { ...(values.all ? { all: true } : {}), ...(values.issuer ? { issuer: values.issuer } : {}), ...(values.agent ? { agentId: await agentId(settings, values.agent) } : {}) };
    const r = await callApi<{ requested: number; alreadyRunning: number }>(settings, 'POST', '/api/v1/managed-certificates/renew', body);
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else console.log(`renewal requested for ${r.requested} certificate(s)${r.alreadyRunning ? `; ${r.alreadyRunning} already had a job running and were left as they are` : ''}`);
    return 0;
  }
  const idOrName = onePositional(positionals, 'the managed certificate (ID or NAME)', MANAGED_USAGE);
  const m = await callApi<ManagedView>(api(), 'POST', managedPath(idOrName, '/renew'));
  if (values.json) console.log(JSON.stringify(m, null, 2));
  else {
    console.log(`renewal of "${m.name}" requested`);
    console.log(m.openJob ? `job ${m.openJob.id} is ${m.openJob.state}` : 'the scheduler starts its job on its next pass (the agent must be connected)');
    console.log(`follow it with: certfleet managed show ${m.name}`);
  }
  return 0;
}

async function remove(args: string[], api: () => ApiSettings): Promise<number> {
  const { positionals } = parseCommandArgs({ args, allowPositionals: true, options: {} }, MANAGED_USAGE);
  const idOrName = onePositional(positionals, 'the managed certificate (ID or NAME)', MANAGED_USAGE);
  await callApi<void>(api(), 'DELETE', managedPath(idOrName));
  console.log(`"${idOrName}" is no longer managed; the installed files were left in place`);
  return 0;
}
