import { isIP } from 'node:net';
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
  /** TLS endpoint probing of configured targets: minutes between passes (0: off), probes at once, extra trust anchors (PEM file). */
  endpoints: { probeMinutes: number; concurrency: number; caFile?: string };
  /** Certificate Transparency monitor: minutes between polls of the configured logs (0: off), entries per get-entries request. */
  ctMonitor: { pollMinutes: number; batchSize: number };
  /** The ACME server (RFC 8555) of the internal issuing CAs at <public URL>/acme/<ca>/directory. */
  acme: AcmeServerConfig;
  /**
   * Programs (absolute paths) that DNS-01 hooks and command notification channels may run. They
   * run on the server, so an API token alone must not be able to choose one: empty means none.
   */
  serverCommands: string[];
  alerts: AlertsConfig;
  /** Fleet policy findings: seconds between checks for inventory changes (a pass runs when there are); 0 disables background passes. */
  policyPassSeconds: number;
  /** /metrics: gauges read from the database are cached this many seconds between scrapes. */
  metricsCacheSeconds: number;
}

/** Alert evaluation and notification delivery. */
export interface AlertsConfig {
  /** Seconds between evaluation passes (one replica at a time); 0 disables passes and deliveries. */
  intervalSeconds: number;
  /** Default expiry thresholds in days, descending; the last is the critical stage (expiry follows). */
  thresholdDays: number[];
  /** An agent not seen for this long raises agent-offline. */
  agentOfflineMinutes: number;
  /** Attempts per notification before it is recorded as failed. */
  deliveryMaxAttempts: number;
  /** Per-attempt bound for one channel (HTTP request, SMTP session, command run). */
  deliveryTimeoutSeconds: number;
}

export interface AcmeServerConfig {
  /** CA names whose directory refuses accounts without external account binding; '*' for all. */
  eabRequired: string[];
  /** Validity of ACME certificates (capped by the issuance policy). */
  validityDays: number;
  /** Port the HTTP-01 validation connects to (80; tests use another). */
  http01Port: number;
  /** Port the TLS-ALPN-01 validation connects to (443; tests use another). */
  tlsAlpn01Port: number;
  /** DNS server for DNS-01 TXT lookups, host:port; undefined: the system resolver. */
  dnsResolver?: { host: string; port: number };
  /** Fixed name -> address map used by validations before DNS (tests; e.g. a.test=127.0.0.1). */
  hosts: Record<string, string>;
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

function serverCommands(env: Env): string[] {
  const hooks = list(env.CERTFLEET_SERVER_COMMANDS);
  for (const hook of hooks) if (!hook.startsWith('/')) throw new ConfigError(`CERTFLEET_SERVER_COMMANDS must list absolute paths, got "${hook}"`);
  return hooks;
}

function acmeServer(env: Env): AcmeServerConfig {
  const hosts: Record<string, string> = {};
  for (const pair of list(env.CERTFLEET_ACME_HOSTS)) {
    const [name, address] = pair.split('=').map((p) => p.trim());
    if (!name || !address || isIP(address) === 0) throw new ConfigError(`CERTFLEET_ACME_HOSTS must be name=IP pairs separated by commas, got "${pair}"`);
    hosts[name.toLowerCase()] = address;
  }
  let dnsResolver: AcmeServerConfig['dnsResolver'];
  const resolver = env.CERTFLEET_ACME_DNS_RESOLVER?.trim();
  if (resolver) {
    const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(resolver);
    if (!m || isIP(m[1]) === 0 || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ConfigError(`CERTFLEET_ACME_DNS_RESOLVER must be IP:port, got "${resolver}"`);
    dnsResolver = { host: m[1], port: Number(m[2]) };
  }
  return {
    eabRequired: list(env.CERTFLEET_ACME_EAB_REQUIRED),
    validityDays: int(env, 'CERTFLEET_ACME_VALIDITY_DAYS', 90, 1, 398),
    http01Port: int(env, 'CERTFLEET_ACME_HTTP01_PORT', 80, 1, 65535),
    tlsAlpn01Port: int(env, 'CERTFLEET_ACME_TLSALPN01_PORT', 443, 1, 65535),
    dnsResolver,
    hosts,
  };
}

function alerts(env: Env): AlertsConfig {
  const raw = env.CERTFLEET_ALERT_THRESHOLD_DAYS?.trim() || '30,14,7';
  const thresholdDays = raw.split(',').map((d) => Number(d.trim()));
  if (thresholdDays.some((d) => !Number.isInteger(d) || d < 1 || d > 3650) || thresholdDays.some((d, i) => i > 0 && d >= thresholdDays[i - 1])) {
    throw new ConfigError(`CERTFLEET_ALERT_THRESHOLD_DAYS must be descending whole days between 1 and 3650, e.g. "30,14,7", got "${raw}"`);
  }
  return {
    intervalSeconds: int(env, 'CERTFLEET_ALERT_SECONDS', 300, 0, 24 * 3600),
    thresholdDays,
    agentOfflineMinutes: int(env, 'CERTFLEET_ALERT_AGENT_OFFLINE_MINUTES', 30, 1, 7 * 24 * 60),
    deliveryMaxAttempts: int(env, 'CERTFLEET_ALERT_DELIVERY_ATTEMPTS', 8, 1, 100),
    deliveryTimeoutSeconds: int(env, 'CERTFLEET_ALERT_DELIVERY_TIMEOUT_SECONDS', 15, 1, 600),
  };
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
    endpoints: {
      probeMinutes: int(env, 'CERTFLEET_ENDPOINT_PROBE_MINUTES', 15, 0, 7 * 24 * 60),
      concurrency: int(env, 'CERTFLEET_ENDPOINT_PROBE_CONCURRENCY', 8, 1, 256),
      caFile: env.CERTFLEET_ENDPOINT_CA_FILE || undefined,
    },
    ctMonitor: {
      pollMinutes: int(env, 'CERTFLEET_CT_POLL_MINUTES', 60, 0, 7 * 24 * 60),
      batchSize: int(env, 'CERTFLEET_CT_BATCH', 256, 1, 1000),
    },
    acme: acmeServer(env),
    serverCommands: serverCommands(env),
    alerts: alerts(env),
    policyPassSeconds: int(env, 'CERTFLEET_POLICY_PASS_SECONDS', 60, 0, 24 * 3600),
    metricsCacheSeconds: int(env, 'CERTFLEET_METRICS_CACHE_SECONDS', 15, 0, 3600),
  };
  if (config.expiry.criticalDays >= config.expiry.warningDays) {
    throw new ConfigError('CERTFLEET_CRITICAL_DAYS must be smaller than CERTFLEET_WARNING_DAYS');
  }
  return config;
}

export const SERVER_CONFIG = Symbol('SERVER_CONFIG');
