import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../../../..');
export const DIST = join(ROOT, 'dist');
const SERVER_MAIN = join(DIST, 'apps/server/src/main.js');
const AGENT_MAIN = join(DIST, 'apps/agent/src/main.js');
const CLI_MAIN = join(DIST, 'apps/cli/src/main.js');

/** A free loopback port (for restarts that must come back on the same port). */
export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * Environment for a server process under test: its data in `<work>/server`, free loopback ports,
 * 2-second heartbeats, PostgreSQL when `databaseUrl` is given (PGlite otherwise), plus `extra`.
 */
export async function testServerEnv(work: string, databaseUrl?: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    CERTFLEET_DATA_DIR: join(work, 'server'),
    CERTFLEET_HTTP_PORT: String(await freePort()),
    CERTFLEET_GRPC_PORT: String(await freePort()),
    CERTFLEET_GRPC_HOST: '127.0.0.1',
    CERTFLEET_HEARTBEAT_SECONDS: '2',
    // No background revocation checks: corpora name OCSP/CRL hosts off this machine (loopback only).
    // Tests of revocation checking ask for a check explicitly.
    CERTFLEET_REVOCATION_CHECK_MINUTES: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...extra,
  };
}

export interface ServerProcess {
  child: ChildProcess;
  httpUrl: string;
  grpcPort: number;
  fingerprint: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Runs the built control server as its own process, as a user would, and waits for its banner. */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 90_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const started = Date.now();
  while (!/fleet CA SHA-256:\s+(\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    httpUrl: /REST API:\s+(http:\/\/\S+)\/api\/v1/.exec(out)![1],
    grpcPort: Number(/agent gRPC endpoint:\s+\S+:(\d+)/.exec(out)![1]),
    fingerprint: /fleet CA SHA-256:\s+(\S+)/.exec(out)![1],
    output: () => out,
    stop: () => stopProcess(child),
  };
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(main: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export const cli = (args: string[], env: Record<string, string>) => run(CLI_MAIN, args, env);
export const agentCommand = (args: string[], env: Record<string, string> = {}) => run(AGENT_MAIN, args, env);

export function startAgentProcess(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [AGENT_MAIN, 'run', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

/** Polls `probe` until it returns a value `done` accepts; fails with the last value after the timeout. */
export async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  const shown = last instanceof Set ? [...last] : last;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(shown)?.slice(0, 3000)}`);
}
