// Shared by the benchmark simulators: CPU and memory readings from /proc, bounded concurrency,
// timeouts, REST calls with the admin token, percentiles and METRIC lines.
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86_64/arm64

/** utime + stime of a process, seconds. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

export function statusMb(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Busy CPU seconds of the whole machine (all cores): everything but idle and iowait. */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / CLK_TCK;
}

/** CPU of the PostgreSQL backends serving the benchmark database (they are separate processes). */
export function postgresBackendCpuSeconds(db: string): number {
  if (!db) return 0;
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres: ') && cmd.split(' ').includes(db)) total += processCpuSeconds(Number(name));
    } catch {
      // the process is gone
    }
  }
  return total;
}

export function metric(name: string, value: number, digits = 2): void {
  console.log(`METRIC ${name} ${Number.isInteger(value) ? value : value.toFixed(digits)}`);
}

/** Runs fn over items with at most `limit` in flight; the first failure rejects (others finish). */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    }),
  ]);
}

export async function rest<T>(baseUrl: string, adminToken: string, method: string, path: string, body?: unknown, attempt = 1): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    // A kept-alive connection the server closed just as this request went out: a GET may go again.
    if (method === 'GET' && cause?.code === 'ECONNRESET' && attempt < 3) return rest<T>(baseUrl, adminToken, method, path, body, attempt + 1);
    throw new Error(`${method} ${path}: ${(err as Error).message}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];


/** What every simulator is told by its run.sh: the server to talk to, and the fleet's size. */
export interface SimulatorArgs {
  http: string;
  grpc: string;
  fingerprint: string;
  dataDir: string;
  serverPid: number;
  agents: number;
  concurrency: number;
  phaseTimeoutMs: number;
}

/** Reads --name value pairs: the shared ones, and `get` for a simulator's own. */
export function readSimulatorArgs(argv: string[]): { args: SimulatorArgs; get: (name: string) => string | undefined } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const need = (name: string): string => {
    const v = get(name);
    if (!v) throw new Error(`missing --${name}`);
    return v;
  };
  const args = {
    http: need('http').replace(/\/+$/, ''),
    grpc: need('grpc'),
    fingerprint: need('fingerprint'),
    dataDir: need('data-dir'),
    serverPid: Number(need('server-pid')),
    agents: Number(get('agents') ?? 1000),
    concurrency: Number(get('concurrency') ?? 32),
    phaseTimeoutMs: Number(get('phase-timeout') ?? 120) * 1000,
  };
  return { args, get };
}
