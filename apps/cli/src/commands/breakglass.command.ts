import { ApiSettings, callApi, CliError } from '../api/api-client';
import { intFlag, listFlag, parseCommandArgs, usageError } from './cli-args';
import { shortTime, table } from './format';

export const BREAKGLASS_USAGE = `usage:
  certfleet breakglass plan SELECTOR [--json]                 (dry run: what would happen, per host)
  certfleet breakglass run SELECTOR --confirm [--reason R] [--new-ca NAME] [--concurrency N] [--json]
  certfleet breakglass status [CAMPAIGN] [--watch] [--json]   (default: the latest campaign)
  certfleet breakglass report CAMPAIGN [--json]               (every item: replaced, failed and why, manual)
SELECTOR (all given must match):
  --issuer CA                  a compromised internal issuing CA: a replacement CA is made (signed at
                               once when its root key is online here, else it waits for the offline
                               root: import it with "certfleet ca import-issuing"), the CA and every
                               certificate it issued are revoked, every holder gets a new certificate
  --ca-key HEX                 authority key identifier of any CA
  --serial HEX                 (repeatable, or comma-separated)
  --san PATTERN                DNS name pattern, e.g. '*.example.com'
  --key-algorithm ALG [--key-bits-below N]    e.g. RSA --key-bits-below 2048
  --signature-algorithm TEXT   e.g. sha1`;

const SELECTOR_OPTIONS = {
  issuer: { type: 'string' },
  'ca-key': { type: 'string' },
  serial: { type: 'string', multiple: true },
  san: { type: 'string' },
  'key-algorithm': { type: 'string' },
  'key-bits-below': { type: 'string' },
  'signature-algorithm': { type: 'string' },
  json: { type: 'boolean' },
} as const;

interface Plan {
  compromisedCa: { id: string; name: string } | null;
  toRevoke: number;
  replace: Array<{ hostname: string; name: string; serial: string }>;
  manual: Array<{ hostname: string; path: string; entry: string; serial: string | null; issuedByCertfleet: boolean }>;
  acme: AcmeHeld[];
  hosts: Array<{ hostname: string; replace: number; manual: number }>;
}

interface AcmeHeld {
  serial: string;
  identifiers: string[];
  acmeAccountId: string;
}

interface Progress {
  campaign: { id: string; status: string; reason: string; createdAt: string; startedAt: string | null; completedAt: string | null; compromisedCaName: string | null; replacementCaName: string | null; revokedCount: number; concurrency: number };
  counts: { pending: number; replacing: number; validated: number; manual: number; cancelled: number; total: number; failing: number };
  percent: number;
  secondsTo100: number | null;
  pendingHosts: Array<{ hostname: string; items: number; lastError: string | null }>;
  acmeClients: { total: number; renewed: number; waiting: AcmeHeld[] } | null;
  items?: Array<{ hostname: string; location: string; state: string; oldSerial: string | null; newSerial: string | null; lastError: string | null }>;
}

/** certfleet breakglass plan | run | status | report */
export async function breakglassCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'plan':
      return plan(rest, api);
    case 'run':
      return run(rest, api);
    case 'status':
      return status(rest, api);
    case 'report':
      return report(rest, api);
    case 'help':
    case '--help':
      console.log(BREAKGLASS_USAGE);
      return 0;
    default:
      throw usageError(sub ? `unknown breakglass command "${sub}"` : 'a breakglass command is required', BREAKGLASS_USAGE);
  }
}

function selectorFrom(values: Record<string, unknown>): Record<string, unknown> {
  const selector: Record<string, unknown> = {};
  if (values.issuer) selector.issuer = values.issuer;
  if (values['ca-key']) selector.caKey = values['ca-key'];
  const serials = listFlag(values.serial as string[] | undefined);
  if (serials.length) selector.serials = serials;
  if (values.san) selector.san = values.san;
  if (values['key-algorithm']) selector.keyAlgorithm = values['key-algorithm'];
  const bits = intFlag(values['key-bits-below'] as string | undefined, '--key-bits-below', BREAKGLASS_USAGE);
  if (bits !== undefined) selector.keyBitsBelow = bits;
  if (values['signature-algorithm']) selector.signatureAlgorithm = values['signature-algorithm'];
  if (Object.keys(selector).length === 0) throw usageError('a selector is required', BREAKGLASS_USAGE);
  return selector;
}

async function plan(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: SELECTOR_OPTIONS }, BREAKGLASS_USAGE);
  if (positionals.length) throw usageError(`unexpected argument ${positionals[0]}`, BREAKGLASS_USAGE);
  const p = await callApi<Plan>(api(), 'POST', '/api/v1/breakglass/plan', selectorFrom(values));
  if (values.json) {
    console.log(JSON.stringify(p, null, 2));
    return 0;
  }
  console.log('DRY RUN: nothing was changed.');
  if (p.compromisedCa) console.log(`issuing CA "${p.compromisedCa.name}" would be replaced by a new issuing CA and revoked`);
  console.log(`${p.toRevoke} certificate(s) issued by certfleet would be revoked`);
  console.log(`${p.replace.length} managed certificate(s) would get a new key and certificate; ${p.manual.length} found where certfleet does not manage them (manual action)`);
  if (p.hosts.length) console.log(`\n${table(['HOST', 'REPLACE', 'MANUAL'], p.hosts.map((h) => [h.hostname, String(h.replace), String(h.manual)]))}`);
  if (p.acme.length) {
    console.log(`\n${p.acme.length} held by ACME clients (not found on any host): revoked; ARI tells their clients to renew now, at the same directory URL, which will issue from the replacement CA`);
    console.log(acmeTable(p.acme));
  }
  if (p.manual.length) console.log(`\nneeds manual action:\n${table(['HOST', 'PATH', 'SERIAL', 'ISSUED BY'], p.manual.map((m) => [m.hostname, m.entry ? `${m.path} (${m.entry})` : m.path, m.serial ?? '', m.issuedByCertfleet ? 'certfleet (revoked)' : 'external']))}`);
  console.log('\nTo do it: certfleet breakglass run <same selector> --confirm');
  return 0;
}

async function run(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    { args, allowPositionals: true, options: { ...SELECTOR_OPTIONS, confirm: { type: 'boolean' }, reason: { type: 'string' }, 'new-ca': { type: 'string' }, concurrency: { type: 'string' } } },
    BREAKGLASS_USAGE,
  );
  if (positionals.length) throw usageError(`unexpected argument ${positionals[0]}`, BREAKGLASS_USAGE);
  const selector = selectorFrom(values);
  if (!values.confirm) throw usageError('break-glass revokes and replaces certificates across the fleet: add --confirm (see what it would do with "certfleet breakglass plan")', BREAKGLASS_USAGE);
  const body = { selector, confirm: true, reason: values.reason, newCaName: values['new-ca'], concurrency: intFlag(values.concurrency, '--concurrency', BREAKGLASS_USAGE) };
  const p = await callApi<Progress>(api(), 'POST', '/api/v1/breakglass/run', body);
  if (values.json) console.log(JSON.stringify(p, null, 2));
  else {
    console.log(`campaign ${p.campaign.id} ${p.campaign.status}`);
    if (p.campaign.status === 'waiting-for-ca') {
      console.log(`the replacement issuing CA "${p.campaign.replacementCaName}" waits for the offline root: sign its CSR (certfleet ca show "${p.campaign.replacementCaName}" --csr-out FILE),`);
      console.log(`then import it (certfleet ca import-issuing "${p.campaign.replacementCaName}" ...): the campaign continues by itself`);
    } else {
      if (p.campaign.replacementCaName) console.log(`new issuing CA "${p.campaign.replacementCaName}" is active; "${p.campaign.compromisedCaName}" is revoked`);
      console.log(`${p.campaign.revokedCount} certificate(s) revoked; ${p.counts.total - p.counts.manual} replacement(s) queued, ${p.counts.manual} need manual action`);
    }
    console.log(`follow it with: certfleet breakglass status ${p.campaign.id} --watch`);
  }
  return 0;
}

function bar(percent: number, width = 30): string {
  const full = Math.round((percent / 100) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${percent}%`;
}

function printProgress(p: Progress): void {
  const c = p.counts;
  console.log(`campaign ${p.campaign.id}: ${p.campaign.status}${p.campaign.compromisedCaName ? ` (issuing CA "${p.campaign.compromisedCaName}" -> "${p.campaign.replacementCaName}")` : ''}`);
  console.log(bar(p.percent));
  console.log(`validated ${c.validated}, replacing ${c.replacing}, pending ${c.pending}, failing (retried) ${c.failing}, manual ${c.manual}, cancelled ${c.cancelled}; revoked ${p.campaign.revokedCount}`);
  if (p.secondsTo100 !== null) console.log(`time to 100%: ${p.secondsTo100.toFixed(1)} s`);
  const a = p.acmeClients;
  if (a?.total) console.log(`ACME clients: ${a.renewed} of ${a.total} renewed from the replacement CA${a.waiting.length ? `; waiting for:\n${acmeTable(a.waiting)}` : ''}`);
  if (p.pendingHosts.length) console.log(`waiting on:\n${table(['HOST', 'ITEMS', 'LAST ERROR'], p.pendingHosts.map((h) => [h.hostname, String(h.items), h.lastError ?? '(offline or in progress)']))}`);
}

function acmeTable(rows: AcmeHeld[]): string {
  return table(['NAMES', 'SERIAL', 'ACME ACCOUNT'], rows.map((r) => [r.identifiers.join(','), r.serial, r.acmeAccountId]));
}

async function latestId(settings: ApiSettings): Promise<string> {
  const [latest] = await callApi<Array<{ id: string }>>(settings, 'GET', '/api/v1/breakglass/campaigns');
  if (!latest) throw new CliError('no break-glass campaign yet');
  return latest.id;
}

async function status(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, watch: { type: 'boolean' } } }, BREAKGLASS_USAGE);
  const settings = api();
  const id = positionals[0] ?? (await latestId(settings));
  for (;;) {
    const p = await callApi<Progress>(settings, 'GET', `/api/v1/breakglass/campaigns/${encodeURIComponent(id)}`);
    if (values.json) console.log(JSON.stringify(p, null, 2));
    else printProgress(p);
    if (!values.watch || p.campaign.status === 'completed' || p.campaign.status === 'cancelled') return 0;
    await new Promise((r) => setTimeout(r, 2000));
    console.log('');
  }
}

async function report(args: string[], api: () => ApiSettings): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } }, BREAKGLASS_USAGE);
  const settings = api();
  const id = positionals[0] ?? (await latestId(settings));
  const r = await callApi<Progress>(settings, 'GET', `/api/v1/breakglass/campaigns/${encodeURIComponent(id)}/report`);
  if (values.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  printProgress(r);
  console.log(`started ${shortTime(r.campaign.startedAt)}, completed ${shortTime(r.campaign.completedAt)}\n`);
  console.log(table(['HOST', 'CERTIFICATE', 'STATE', 'OLD SERIAL', 'NEW SERIAL', 'ERROR'], (r.items ?? []).map((i) => [i.hostname, i.location, i.state, i.oldSerial ?? '', i.newSerial ?? '', i.lastError ?? ''])));
  return 0;
}
