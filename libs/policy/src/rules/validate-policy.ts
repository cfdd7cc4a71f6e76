// Untrusted JSON (REST, CLI file, database) → a FleetPolicy, or every reason it is not one. A
// policy is checked whole before it replaces the current one.
import { isValidDnsName } from '../dns-names';
import { SEVERITIES, TLS_VERSIONS, type FleetPolicy, type PolicyRule, type RuleScope } from './types';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_RULES = 200;

export type PolicyParse = { ok: true; policy: FleetPolicy } | { ok: false; errors: string[] };

export function parsePolicy(input: unknown): PolicyParse {
  const errors: string[] = [];
  if (!isObject(input)) return { ok: false, errors: ['a policy is a JSON object {"name": ..., "rules": [...]}'] };
  if (typeof input.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(input.name)) errors.push('name: 1-64 letters, digits, ".", "_" or "-"');
  if (!Array.isArray(input.rules)) errors.push('rules: must be a list');
  else if (input.rules.length > MAX_RULES) errors.push(`rules: at most ${MAX_RULES}`);
  const rules = Array.isArray(input.rules) ? input.rules.slice(0, MAX_RULES) : [];
  const ids = new Set<string>();
  rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (!isObject(rule)) return void errors.push(`${at}: must be an object`);
    if (typeof rule.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(rule.id)) errors.push(`${at}.id: 1-64 letters, digits, ".", "_" or "-"`);
    else if (ids.has(rule.id)) errors.push(`${at}.id: ${rule.id} is used twice`);
    else ids.add(rule.id);
    if (!SEVERITIES.includes(rule.severity as never)) errors.push(`${at}.severity: one of ${SEVERITIES.join(', ')}`);
    if (rule.blockIssuance !== undefined && typeof rule.blockIssuance !== 'boolean') errors.push(`${at}.blockIssuance: true or false`);
    if (rule.scope !== undefined) errors.push(...scopeErrors(rule.scope, `${at}.scope`));
    errors.push(...parameterErrors(rule, at));
  });
  return errors.length ? { ok: false, errors } : { ok: true, policy: { name: input.name as string, rules: rules as PolicyRule[] } };
}

function parameterErrors(rule: Record<string, unknown>, at: string): string[] {
  switch (rule.type) {
    case 'min-rsa-bits':
      return isWholeIn(rule.bits, 512, 16384) ? [] : [`${at}.bits: a whole number from 512 to 16384`];
    case 'allowed-curves':
      return isStringList(rule.curves) ? [] : [`${at}.curves: a list of curve names, e.g. ["P-256", "Ed25519"]`];
    case 'forbidden-signature-hashes':
      return isStringList(rule.hashes) ? [] : [`${at}.hashes: a list of digests, e.g. ["MD5", "SHA-1"]`];
    case 'max-validity': {
      const found: string[] = [];
      if (rule.days === undefined && rule.schedule === undefined) found.push(`${at}: give days or schedule`);
      if (rule.days !== undefined && !isWholeIn(rule.days, 1, 36500)) found.push(`${at}.days: a whole number from 1 to 36500`);
      if (rule.schedule !== undefined) {
        const steps = Array.isArray(rule.schedule) ? rule.schedule : [];
        if (steps.length === 0) found.push(`${at}.schedule: a non-empty list of {"from": "YYYY-MM-DD", "days": N}`);
        steps.forEach((step: unknown, j) => {
          if (!isObject(step) || typeof step.from !== 'string' || !DATE.test(step.from) || Number.isNaN(Date.parse(step.from)) || !isWholeIn(step.days, 1, 36500)) {
            found.push(`${at}.schedule[${j}]: {"from": "YYYY-MM-DD", "days": 1..36500}`);
          }
        });
      }
      return found;
    }
    case 'require-san':
    case 'no-wildcards':
    case 'key-reuse':
      return [];
    case 'self-signed':
      return rule.allowed === undefined ? [] : scopeErrors(rule.allowed, `${at}.allowed`);
    case 'min-tls-version':
      return TLS_VERSIONS.includes(rule.version as never) ? [] : [`${at}.version: one of ${TLS_VERSIONS.join(', ')}`];
    default:
      return [`${at}.type: unknown rule type ${JSON.stringify(rule.type)}`];
  }
}

function scopeErrors(scope: unknown, at: string): string[] {
  if (!isObject(scope)) return [`${at}: must be an object`];
  const found: string[] = [];
  const known = new Set(['certificates', 'dnsNames', 'issuers', 'hosts', 'paths']);
  for (const key of Object.keys(scope)) if (!known.has(key)) found.push(`${at}.${key}: unknown selector`);
  const s = scope as RuleScope;
  if (s.certificates !== undefined && !['leaf', 'ca', 'any'].includes(s.certificates)) found.push(`${at}.certificates: leaf, ca or any`);
  for (const key of ['dnsNames', 'issuers', 'hosts', 'paths'] as const) {
    if (s[key] !== undefined && !isStringList(s[key])) found.push(`${at}.${key}: a list of strings`);
  }
  for (const pattern of isStringList(s.dnsNames) ? s.dnsNames : []) {
    if (!isValidDnsName(pattern.startsWith('.') ? pattern.slice(1) : pattern)) found.push(`${at}.dnsNames: ${pattern} is not a DNS name pattern`);
  }
  return found;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 1000 && v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 256);
const isWholeIn = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
