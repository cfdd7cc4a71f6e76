// The compact command-line forms of a managed certificate's install targets and TLS check, turned
// into the JSON the server takes (apps/server/src/app/managed/managed-input.ts).
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { TargetSpec } from '@certfleet/targets';

/** A --target or --validate value that cannot be used; the command reports it as a usage error. */
export class SpecError extends Error {}

export const TARGET_HELP = `Target SPEC (repeat --target for several; paths are on the agent's host, absolute):
  pem:cert=/etc/app/cert.pem,key=/etc/app/key.pem[,chain=/etc/app/chain.pem]
  fullchain:path=/etc/app/fullchain.pem,key=/etc/app/key.pem
  combined:path=/etc/haproxy/site.pem                       (certificate, chain and key in one file)
  pkcs12:path=/etc/app/site.p12,password-file=FILE[,alias=NAME]
  jks:path=/etc/app/site.jks,password-file=FILE[,alias=NAME][,key-password-file=FILE]
  Passwords are read from files on this machine (first line), never given on the command line,
  so they stay out of shell history and ps. Write "\\," for a comma inside a value.`;

interface KindRule {
  kind: TargetSpec['kind'];
  required: string[];
  optional: string[];
}

const KINDS: Record<string, KindRule> = {
  pem: { kind: 'pem-files', required: ['cert', 'key'], optional: ['chain'] },
  fullchain: { kind: 'fullchain-pem', required: ['path', 'key'], optional: [] },
  combined: { kind: 'combined-pem', required: ['path'], optional: [] },
  pkcs12: { kind: 'pkcs12', required: ['path', 'password-file'], optional: ['alias'] },
  jks: { kind: 'java-keystore', required: ['path', 'password-file'], optional: ['alias', 'key-password-file'] },
};
// The server's names for the kinds work too.
const ALIASES: Record<string, string> = { 'pem-files': 'pem', 'fullchain-pem': 'fullchain', 'combined-pem': 'combined', p12: 'pkcs12', pfx: 'pkcs12', 'java-keystore': 'jks' };
const PATH_KEYS = new Set(['cert', 'key', 'chain', 'path']);

/** Reads a password file: its first line, without the line ending. */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SpecError(`cannot read password file ${path}: ${(err as Error).message}`);
  }
  const secret = text.split(/\r?\n/, 1)[0];
  if (!secret) throw new SpecError(`password file ${path} is empty`);
  return secret;
}

/** Splits "a=1,b=2" on commas not escaped with a backslash; "\\," is a comma, "\\\\" a backslash. */
function splitPairs(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === ',' || text[i + 1] === '\\')) current += text[++i];
    else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/**
 * One --target value, e.g. "pem:cert=/p/c.pem,key=/p/k.pem", as the server's target JSON. Password
 * files are read here, so the passwords travel only in the request body.
 */
export function parseTargetSpec(spec: string, readSecret: (path: string) => string = readSecretFile): TargetSpec {
  const colon = spec.indexOf(':');
  const named = (colon < 0 ? spec : spec.slice(0, colon)).trim().toLowerCase();
  const rule = KINDS[ALIASES[named] ?? named];
  if (!rule) throw new SpecError(`unknown target kind "${named}" in "${spec}" (known: ${Object.keys(KINDS).join(', ')})`);
  const fields = new Map<string, string>();
  for (const pair of colon < 0 ? [] : splitPairs(spec.slice(colon + 1))) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (![...rule.required, ...rule.optional].includes(key)) {
      throw new SpecError(`a ${named} target takes ${[...rule.required, ...rule.optional].join(', ')}; "${key}" is not one of them`);
    }
    if (fields.has(key)) throw new SpecError(`"${key}" is given twice in target "${spec}"`);
    if (value === '') throw new SpecError(`"${key}" has no value in target "${spec}" (write ${key}=...)`);
    if (PATH_KEYS.has(key) && (!posix.isAbsolute(value) || posix.normalize(value) !== value || value.endsWith('/'))) {
      throw new SpecError(`${key}=${value}: install paths are on the agent's host and must be absolute and normalised (e.g. /etc/app/cert.pem)`);
    }
    fields.set(key, value);
  }
  const missing = rule.required.filter((k) => !fields.has(k));
  if (missing.length) throw new SpecError(`a ${named} target needs ${missing.map((k) => `${k}=`).join(' and ')} (got "${spec}")`);
  const f = (k: string) => fields.get(k)!;
  const alias = fields.has('alias') ? { alias: f('alias') } : {};
  switch (rule.kind) {
    case 'pem-files':
      return { kind: 'pem-files', certPath: f('cert'), keyPath: f('key'), ...(fields.has('chain') ? { chainPath: f('chain') } : {}) };
    case 'fullchain-pem':
      return { kind: 'fullchain-pem', path: f('path'), keyPath: f('key') };
    case 'combined-pem':
      return { kind: 'combined-pem', path: f('path') };
    case 'pkcs12':
      return { kind: 'pkcs12', path: f('path'), password: readSecret(f('password-file')), ...alias };
    case 'java-keystore':
      return {
        kind: 'java-keystore',
        path: f('path'),
        storePassword: readSecret(f('password-file')),
        ...alias,
        ...(fields.has('key-password-file') ? { keyPassword: readSecret(f('key-password-file')) } : {}),
      };
  }
}

export interface ValidationBody {
  host: string;
  port: number;
  serverName?: string;
}

/** --validate host:port[/sni] (IPv6 in brackets: [::1]:443) as the server's validation object. */
export function parseValidateFlag(value: string): ValidationBody {
  const m = /^(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})(?:\/([^/\s]+))?$/.exec(value.trim());
  if (!m) throw new SpecError(`--validate must look like host:port or host:port/server-name (IPv6: [::1]:443), got "${value}"`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new SpecError(`--validate port must be 1-65535, got ${m[2]}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port, ...(m[3] ? { serverName: m[3] } : {}) };
}

/** A target for people: kind and paths, never passwords. */
export function describeTarget(t: Record<string, unknown>): string {
  const paths = ['certPath', 'keyPath', 'chainPath', 'path'].map((k) => t[k]).filter((v): v is string => typeof v === 'string');
  return `${String(t.kind)} ${paths.join(' ')}${typeof t.alias === 'string' ? ` (alias ${t.alias})` : ''}`;
}

export const CHALLENGE_HELP = `Challenge SPEC (with --issuer acme:NAME):
  http-01:webroot=/var/www/html             (the agent writes the token file; the web server serves it)
  http-01:standalone[,port=80]              (the agent listens on the port while the challenge lasts)
  dns-01:rfc2136,server=ns1:53,zone=example.com,key-name=NAME[,algorithm=hmac-sha256],secret-file=/p
  dns-01:hook,command=/usr/local/bin/dns-hook   (run on the server with CERTFLEET_ACME_* variables)`;

/** One --challenge value as the server's challenge JSON; the TSIG secret is read from its file here. */
export function parseChallengeSpec(spec: string, readSecret: (path: string) => string = readSecretFile): Record<string, unknown> {
  const colon = spec.indexOf(':');
  const type = (colon < 0 ? spec : spec.slice(0, colon)).trim().toLowerCase();
  const fields = new Map<string, string>();
  const flags: string[] = [];
  for (const pair of colon < 0 ? [] : splitPairs(spec.slice(colon + 1))) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) flags.push(pair.trim().toLowerCase());
    else fields.set(pair.slice(0, eq).trim().toLowerCase(), pair.slice(eq + 1).trim());
  }
  const need = (key: string) => {
    const v = fields.get(key);
    if (!v) throw new SpecError(`challenge "${spec}" needs ${key}=...`);
    return v;
  };
  if (type === 'http-01') {
    if (fields.has('webroot')) return { type, webroot: need('webroot') };
    if (flags.includes('standalone') || fields.has('port')) return { type, ...(fields.has('port') ? { port: Number(fields.get('port')) } : {}) };
    throw new SpecError(`http-01 needs webroot=/path or standalone[,port=N], got "${spec}"`);
  }
  if (type === 'dns-01') {
    if (flags.includes('rfc2136')) {
      return { type, provider: 'rfc2136', server: need('server'), zone: need('zone'), tsigKeyName: need('key-name'), tsigAlgorithm: fields.get('algorithm') ?? 'hmac-sha256', tsigSecret: readSecret(need('secret-file')) };
    }
    if (flags.includes('hook')) return { type, provider: 'hook', command: need('command') };
    throw new SpecError(`dns-01 needs rfc2136,... or hook,command=..., got "${spec}"`);
  }
  throw new SpecError(`unknown challenge type "${type}" (known: http-01, dns-01)`);
}
