import { readFileSync } from 'node:fs';
import { ApiSettings, callApi, CliError } from '../api/api-client';
import { intFlag, parseCommandArgs, usageError } from './cli-args';
import { table } from './format';

export const POLICY_USAGE = `usage:
  certfleet policy show [--json]                      the active fleet policy (baseline until one is set)
  certfleet policy set FILE.json | --preset baseline|public-tls
  certfleet policy findings [--severity info|warning|critical] [--rule ID] [--fingerprint SHA256] [--limit N] [--json]
  certfleet policy evaluate                           recompute the findings now

A policy file is {"name": "...", "rules": [{"id", "type", "severity", "blockIssuance"?, "scope"?, ...}]};
rule types: min-rsa-bits {bits}, allowed-curves {curves}, forbidden-signature-hashes {hashes},
max-validity {days | schedule: [{from: "YYYY-MM-DD", days}]}, require-san, no-wildcards, key-reuse,
self-signed {allowed: scope}, min-tls-version {version}. Scope: {certificates: leaf|ca|any, dnsNames,
issuers, hosts, paths}. Rules with blockIssuance refuse issuance of managed certificates.`;

interface FindingRow {
  fingerprintSha256: string;
  subject: string;
  hosts: number;
  ruleId: string;
  severity: string;
  blockIssuance: boolean;
  message: string;
}

interface PolicyView {
  policy: { name: string; rules: { id: string; type: string; severity: string; blockIssuance?: boolean }[] };
  source: string;
  updatedAt: string | null;
  updatedBy: string | null;
}

export async function policyCommand(args: string[], api: () => ApiSettings): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'show':
      return show(rest, api);
    case 'set':
      return set(rest, api);
    case 'findings':
      return findings(rest, api);
    case 'evaluate': {
      const summary = await callApi<unknown>(api(), 'POST', '/api/v1/policy/evaluate');
      console.log(JSON.stringify(summary ?? { skipped: 'another server replica is running a pass' }));
      return 0;
    }
    case 'help':
    case undefined:
      console.log(POLICY_USAGE);
      return sub === undefined ? 2 : 0;
    default:
      throw usageError(`unknown policy command "${sub}"`, POLICY_USAGE);
  }
}

async function show(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs({ args, options: { json: { type: 'boolean' } } }, POLICY_USAGE);
  const view = await callApi<PolicyView>(api(), 'GET', '/api/v1/policy');
  if (values.json) {
    console.log(JSON.stringify(view, null, 2));
    return 0;
  }
  console.log(`policy ${view.policy.name} (${view.source === 'default' ? 'built-in default' : `set by ${view.updatedBy} at ${view.updatedAt}`})`);
  console.log(table(['RULE', 'TYPE', 'SEVERITY', 'BLOCKS ISSUANCE'], view.policy.rules.map((r) => [r.id, r.type, r.severity, r.blockIssuance ? 'yes' : 'no'])));
  return 0;
}

export function policyBody(args: string[], read: (file: string) => string = (f) => readFileSync(f, 'utf8')): unknown {
  const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { preset: { type: 'string' } } }, POLICY_USAGE);
  if ((values.preset === undefined) === (positionals.length !== 1)) {
    if (values.preset === undefined && positionals.length === 0) throw usageError('give a policy FILE or --preset NAME', POLICY_USAGE);
    throw usageError('give either one policy FILE or --preset NAME', POLICY_USAGE);
  }
  if (values.preset !== undefined) return { preset: values.preset };
  let text: string;
  try {
    text = read(positionals[0]);
  } catch (err) {
    throw new CliError(`cannot read ${positionals[0]}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${positionals[0]} is not JSON: ${(err as Error).message}`);
  }
}

async function set(args: string[], api: () => ApiSettings): Promise<number> {
  const body = policyBody(args);
  const result = await callApi<{ policy: PolicyView; pass?: { certificates: number; findings: number } }>(api(), 'POST', '/api/v1/policy', body);
  console.log(`policy ${result.policy.policy.name} is active${result.pass ? `; ${result.pass.findings} findings over ${result.pass.certificates} certificate copies` : ''}`);
  return 0;
}

async function findings(args: string[], api: () => ApiSettings): Promise<number> {
  const { values } = parseCommandArgs(
    { args, options: { severity: { type: 'string' }, rule: { type: 'string' }, fingerprint: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } } },
    POLICY_USAGE,
  );
  const query = new URLSearchParams();
  if (values.severity) query.set('severity', values.severity);
  if (values.rule) query.set('rule', values.rule);
  if (values.fingerprint) query.set('fingerprint', values.fingerprint);
  const limit = intFlag(values.limit, '--limit', POLICY_USAGE);
  if (limit !== undefined) query.set('limit', String(limit));
  const result = await callApi<{ total: number; items: FindingRow[] }>(api(), 'GET', `/api/v1/policy/findings?${query}`);
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  console.log(table(['SEVERITY', 'RULE', 'HOSTS', 'SUBJECT', 'FINGERPRINT', 'MESSAGE'], result.items.map((f) => [f.severity, f.ruleId, String(f.hosts), f.subject, f.fingerprintSha256.slice(0, 16), f.message])));
  if (result.total > result.items.length) console.log(`(${result.items.length} of ${result.total}; --limit for more)`);
  return 0;
}
