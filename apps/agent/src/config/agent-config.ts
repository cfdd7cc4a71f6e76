import { readFileSync } from 'node:fs';
import { DEFAULT_SCAN_ROOTS } from '../discovery';

/** The agent's configuration: a JSON file, overridden by CERTFLEET_AGENT_* variables and flags. */
export interface AgentConfig {
  /** Identity, pending reports and the last inventory (0700). */
  stateDir: string;
  scanRoots: string[];
  /** Passwords to try on PKCS#12 files, keystores and encrypted keys. */
  passwords: string[];
  maxFileSize: number;
  scanIntervalSeconds: number;
  /** Paths (prefixes) never scanned. */
  exclude: string[];
  /**
   * Find the host's TCP listeners, probe them with TLS on loopback and report to the server: after
   * a scan when at least this many seconds passed since the last round (the first scan always).
   * 0 or absent: never. Off unless asked: a probe opens a connection to every listening port, which
   * a service that serves one connection at a time (some embedded daemons) may feel.
   */
  endpointProbeIntervalSeconds?: number;
}

export const DEFAULT_AGENT_CONFIG_FILE = '/etc/certfleet/agent.json';

export const AGENT_DEFAULTS: AgentConfig = {
  stateDir: '/var/lib/certfleet-agent',
  scanRoots: [...DEFAULT_SCAN_ROOTS],
  passwords: ['changeit'],
  maxFileSize: 1024 * 1024,
  scanIntervalSeconds: 900,
  exclude: [],
  endpointProbeIntervalSeconds: 0,
};

export class AgentConfigError extends Error {}

type Env = Record<string, string | undefined>;

function positiveInt(name: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new AgentConfigError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function stringList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new AgentConfigError(`${name} must be a list of strings`);
  }
  return value;
}

/**
 * Loads the config file (when `file` is given it must exist; the default file is optional) and
 * applies environment overrides. Unknown keys are refused so typos do not pass silently.
 */
export function loadAgentConfig(file: string | undefined, env: Env = process.env): AgentConfig {
  const path = file ?? env.CERTFLEET_AGENT_CONFIG ?? DEFAULT_AGENT_CONFIG_FILE;
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(code === 'ENOENT' && !file && !env.CERTFLEET_AGENT_CONFIG)) {
      throw new AgentConfigError(`cannot read agent config ${path}: ${(err as Error).message}`);
    }
  }
  const known = Object.keys(AGENT_DEFAULTS);
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length) throw new AgentConfigError(`unknown setting(s) in ${path}: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const config: AgentConfig = {
    stateDir: typeof raw.stateDir === 'string' ? raw.stateDir : AGENT_DEFAULTS.stateDir,
    scanRoots: raw.scanRoots !== undefined ? stringList('scanRoots', raw.scanRoots) : AGENT_DEFAULTS.scanRoots,
    passwords: raw.passwords !== undefined ? stringList('passwords', raw.passwords) : AGENT_DEFAULTS.passwords,
    maxFileSize: raw.maxFileSize !== undefined ? positiveInt('maxFileSize', raw.maxFileSize) : AGENT_DEFAULTS.maxFileSize,
    scanIntervalSeconds:
      raw.scanIntervalSeconds !== undefined ? positiveInt('scanIntervalSeconds', raw.scanIntervalSeconds) : AGENT_DEFAULTS.scanIntervalSeconds,
    exclude: raw.exclude !== undefined ? stringList('exclude', raw.exclude) : AGENT_DEFAULTS.exclude,
    endpointProbeIntervalSeconds:
      raw.endpointProbeIntervalSeconds === undefined ? AGENT_DEFAULTS.endpointProbeIntervalSeconds : raw.endpointProbeIntervalSeconds === 0 ? 0 : positiveInt('endpointProbeIntervalSeconds', raw.endpointProbeIntervalSeconds),
  };
  if (env.CERTFLEET_AGENT_STATE_DIR) config.stateDir = env.CERTFLEET_AGENT_STATE_DIR;
  if (env.CERTFLEET_AGENT_SCAN_ROOTS) config.scanRoots = env.CERTFLEET_AGENT_SCAN_ROOTS.split(':').filter(Boolean);
  if (env.CERTFLEET_AGENT_SCAN_INTERVAL) config.scanIntervalSeconds = positiveInt('CERTFLEET_AGENT_SCAN_INTERVAL', env.CERTFLEET_AGENT_SCAN_INTERVAL);
  return config;
}
