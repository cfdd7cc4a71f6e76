import { resolve } from 'node:path';

/** The control server's whole configuration, validated once at start. Defaults live here only. */
export interface ServerConfig {
  /** Where the embedded database, key file and admin token live. */
  dataDir: string;
  /** postgres://... to use PostgreSQL; undefined runs embedded PGlite under dataDir. */
  databaseUrl?: string;
  http: { host: string; port: number };
  grpc: { host: string; port: number };
  /** Extra DNS names / IPs agents may use to reach the server (added to its certificate). */
  publicNames: string[];
  /** Base64 32-byte key that encrypts CA keys at rest; undefined uses/creates <dataDir>/ca-encryption.key. */
  caEncryptionKey?: string;
  agentCertificateValidityHours: number;
  heartbeatIntervalSeconds: number;
  /** Days after its identity certificate expired that an agent may still RecoverIdentity; 0 disables recovery. */
  identityGraceDays: number;
  renewal: {
    /** How often the scheduler looks for due managed certificates. */
    schedulerIntervalSeconds: number;
    /** Consecutive failed renewals after which a managed certificate shows as failing. */
    failuresBeforeFailing: number;
  };
  /** Status thresholds for inventory certificates. */
  expiry: { warningDays: number; criticalDays: number };
  /**
   * Base URL relying parties use for the CA's public endpoints (CRLs, OCSP, CA certificates), as
   * put in every issued certificate; undefined: http://<http host>:<port> once listening.
   */
  publicUrl?: string;
  revocation: {
    /** A CRL's nextUpdate is this far after its thisUpdate; a new one is made at half of it. */
    crlValidityHours: number;
    /** OCSP responses are valid (nextUpdate) this long; a cached response is reused for half of it. */
    ocspValidityMinutes: number;
  };
  /** Revocation checking (OCSP, then CRL) of every certificate in the inventory, whoever issued it. */
  revocationCheck: {
    /** Minutes between background passes, and how long an answer without nextUpdate is kept; 0 disables the background pass. */
    intervalMinutes: number;
    /** Certificates checked at the same time. */
    concurrency: number;
    /** intervalMinutes > 0. */
    enabled: boolean;
  };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function publicUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`CERTFLEET_PUBLIC_URL must be an http:// or https:// URL, got "${value}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || !/^[\x21-\x7e]+$/.test(value)) {
    throw new ConfigError(`CERTFLEET_PUBLIC_URL must be an http:// or https:// URL without query, fragment or spaces, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function revocationCheck(env: Env): ServerConfig['revocationCheck'] {
  const intervalMinutes = int(env, 'CERTFLEET_REVOCATION_CHECK_MINUTES', 60, 0, 7 * 24 * 60);
  const concurrency = int(env, 'CERTFLEET_REVOCATION_CHECK_CONCURRENCY', 8, 1, 256);
  return { intervalMinutes, concurrency, enabled: intervalMinutes > 0 };
}

/** Reads CERTFLEET_* variables (and DATABASE_URL); throws ConfigError naming the bad setting. */
export function loadServerConfig(env: Env = process.env): ServerConfig {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must be a postgres:// URL, got "${databaseUrl}"`);
  }
  const config: ServerConfig = {
    dataDir: resolve(env.CERTFLEET_DATA_DIR || '.certfleet'),
    databaseUrl,
    http: {
      host: env.CERTFLEET_HTTP_HOST || '127.0.0.1',
      port: int(env, 'CERTFLEET_HTTP_PORT', 8080, 0, 65535),
    },
    grpc: {
      host: env.CERTFLEET_GRPC_HOST || '0.0.0.0',
      port: int(env, 'CERTFLEET_GRPC_PORT', 7443, 0, 65535),
    },
    publicNames: list(env.CERTFLEET_PUBLIC_NAMES),
    caEncryptionKey: env.CERTFLEET_CA_ENCRYPTION_KEY || undefined,
    agentCertificateValidityHours: int(env, 'CERTFLEET_AGENT_CERT_HOURS', 24 * 30, 1, 24 * 398),
    heartbeatIntervalSeconds: int(env, 'CERTFLEET_HEARTBEAT_SECONDS', 30, 1, 3600),
    identityGraceDays: int(env, 'CERTFLEET_IDENTITY_GRACE_DAYS', 30, 0, 365),
    renewal: {
      schedulerIntervalSeconds: int(env, 'CERTFLEET_SCHEDULER_SECONDS', 5, 1, 3600),
      failuresBeforeFailing: int(env, 'CERTFLEET_RENEWAL_FAILURES', 3, 1, 100),
    },
    expiry: {
      warningDays: int(env, 'CERTFLEET_WARNING_DAYS', 30, 1, 3650),
      criticalDays: int(env, 'CERTFLEET_CRITICAL_DAYS', 7, 0, 3650),
    },
    publicUrl: publicUrl(env.CERTFLEET_PUBLIC_URL),
    revocation: {
      crlValidityHours: int(env, 'CERTFLEET_CRL_HOURS', 24, 1, 24 * 31),
      ocspValidityMinutes: int(env, 'CERTFLEET_OCSP_MINUTES', 60, 1, 7 * 24 * 60),
    },
    revocationCheck: revocationCheck(env),
  };
  if (config.expiry.criticalDays >= config.expiry.warningDays) {
    throw new ConfigError('CERTFLEET_CRITICAL_DAYS must be smaller than CERTFLEET_WARNING_DAYS');
  }
  return config;
}

export const SERVER_CONFIG = Symbol('SERVER_CONFIG');
