// Turns untrusted REST input into a managed certificate's settings, with one clear message per
// problem. Policy rules on the profile itself are checked by @certfleet/policy.
import { isAbsolute, normalize } from 'node:path';
import { KEY_TYPES, type CertificateProfile, type CertificateUsage, type ProfileKeyType } from '@certfleet/policy';
import type { TargetSpec } from '@certfleet/targets';
import type { TlsValidationSpec } from './managed-certificate.entity';

export class ManagedInputError extends Error {}

const USAGES: CertificateUsage[] = ['tls-server', 'tls-client', 'code-signing'];
export const DEFAULT_VALIDITY_DAYS = 90;
export const DEFAULT_RELOAD_TIMEOUT_SECONDS = 30;

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ManagedInputError(`${what} must be an object`);
  return v as Json;
}
function str(v: unknown, what: string, optional = false): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (optional) return undefined;
    throw new ManagedInputError(`${what} is required`);
  }
  if (typeof v !== 'string') throw new ManagedInputError(`${what} must be a string`);
  return v;
}
function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ManagedInputError(`${what} must be a list of strings`);
  return v as string[];
}
function int(v: unknown, what: string, min: number, max: number, fallback?: number): number {
  if (v === undefined || v === null || v === '') {
    if (fallback !== undefined) return fallback;
    throw new ManagedInputError(`${what} is required`);
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ManagedInputError(`${what} must be an integer from ${min} to ${max}`);
  return n;
}
function path(v: unknown, what: string): string {
  const p = str(v, what)!;
  if (!isAbsolute(p) || normalize(p) !== p || p.includes('\0')) throw new ManagedInputError(`${what} must be an absolute, normalised path: ${p}`);
  return p;
}

export function parseProfile(raw: unknown): CertificateProfile {
  const p = obj(raw ?? {}, 'profile');
  const keyType = (str(p.keyType, 'profile.keyType', true) ?? 'ec-p256') as ProfileKeyType;
  if (!(keyType in KEY_TYPES)) throw new ManagedInputError(`profile.keyType must be one of ${Object.keys(KEY_TYPES).join(', ')}`);
  const usages = strings(p.usages, 'profile.usages');
  for (const u of usages) if (!USAGES.includes(u as CertificateUsage)) throw new ManagedInputError(`unknown usage "${u}" (known: ${USAGES.join(', ')})`);
  const dnsNames = strings(p.dnsNames, 'profile.dnsNames');
  const ipAddresses = strings(p.ipAddresses, 'profile.ipAddresses');
  if (dnsNames.length + ipAddresses.length === 0) throw new ManagedInputError('a managed certificate needs at least one DNS name or IP address');
  return {
    keyType,
    dnsNames,
    ipAddresses,
    commonName: str(p.commonName, 'profile.commonName', true) ?? dnsNames[0] ?? ipAddresses[0],
    validityDays: int(p.validityDays, 'profile.validityDays', 1, 3650, DEFAULT_VALIDITY_DAYS),
    usages: (usages.length ? usages : ['tls-server']) as CertificateUsage[],
  };
}

export function parseTargets(raw: unknown): TargetSpec[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new ManagedInputError('targets must list at least one install target');
  return raw.map((t, i) => {
    const o = obj(t, `targets[${i}]`);
    const at = (f: string) => `targets[${i}].${f}`;
    switch (o.kind) {
      case 'pem-files': {
        const chainPath = o.chainPath === undefined || o.chainPath === '' ? undefined : path(o.chainPath, at('chainPath'));
        return { kind: 'pem-files', certPath: path(o.certPath, at('certPath')), keyPath: path(o.keyPath, at('keyPath')), ...(chainPath ? { chainPath } : {}) };
      }
      case 'fullchain-pem':
        return { kind: 'fullchain-pem', path: path(o.path, at('path')), keyPath: path(o.keyPath, at('keyPath')) };
      case 'combined-pem':
        return { kind: 'combined-pem', path: path(o.path, at('path')) };
      case 'pkcs12':
        return { kind: 'pkcs12', path: path(o.path, at('path')), password: str(o.password, at('password'))!, ...(o.alias ? { alias: str(o.alias, at('alias'))! } : {}) };
      case 'java-keystore':
        return {
          kind: 'java-keystore',
          path: path(o.path, at('path')),
          storePassword: str(o.storePassword, at('storePassword'))!,
          ...(o.alias ? { alias: str(o.alias, at('alias'))! } : {}),
          ...(o.keyPassword ? { keyPassword: str(o.keyPassword, at('keyPassword'))! } : {}),
        };
      default:
        throw new ManagedInputError(`${at('kind')} must be one of pem-files, fullchain-pem, combined-pem, pkcs12, java-keystore`);
    }
  });
}

export function parseValidation(raw: unknown): TlsValidationSpec | null {
  if (raw === undefined || raw === null) return null;
  const v = obj(raw, 'validation');
  return {
    host: str(v.host, 'validation.host')!,
    port: int(v.port, 'validation.port', 1, 65535),
    ...(v.serverName ? { serverName: str(v.serverName, 'validation.serverName')! } : {}),
    timeoutSeconds: int(v.timeoutSeconds, 'validation.timeoutSeconds', 1, 600, 10),
  };
}

/** "host:port" or "host:port/sni" (the CLI form) into a validation spec. */
export function parseEndpoint(endpoint: string): TlsValidationSpec {
  const m = /^(\[[^\]]+\]|[^:/]+):(\d+)(?:\/(.+))?$/.exec(endpoint.trim());
  if (!m) throw new ManagedInputError(`endpoint must look like host:port or host:port/server-name, got "${endpoint}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: int(m[2], 'endpoint port', 1, 65535), ...(m[3] ? { serverName: m[3] } : {}), timeoutSeconds: 10 };
}

export function reloadTimeout(raw: unknown): number {
  return int(raw, 'reloadTimeoutSeconds', 1, 3600, DEFAULT_RELOAD_TIMEOUT_SECONDS);
}

export function renewBeforeDays(raw: unknown): number | null {
  return raw === undefined || raw === null || raw === '' ? null : int(raw, 'renewBeforeDays', 1, 3650);
}

/** Targets as shown to people and written to the audit trail: passwords never leave the server. */
export function redactTargets(targets: TargetSpec[]): TargetSpec[] {
  return targets.map((t) => {
    if (t.kind === 'pkcs12') return { ...t, password: '********' };
    if (t.kind === 'java-keystore') return { ...t, storePassword: '********', ...(t.keyPassword ? { keyPassword: '********' } : {}) };
    return t;
  });
}

/** The certificate file a target writes (where discovery will see the installed certificate). */
export function certificatePathOf(t: TargetSpec): string {
  switch (t.kind) {
    case 'pem-files':
      return t.certPath;
    default:
      return t.path;
  }
}
