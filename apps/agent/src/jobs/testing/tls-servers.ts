// Test-only: real TLS servers whose reload command makes them serve what is on disk, and an
// independent look at what they serve (openssl s_client).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';

export const NGINX = '/usr/sbin/nginx';

/** Single-quotes a string for /bin/sh. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A Node TLS server on 127.0.0.1 that loads its certificate (the concatenation of `certFiles`) and
 * key from disk at start and again, asynchronously like a real daemon, whenever its signal file
 * changes. `reloadCommand` is what a job runs to reload it; every run is counted in `runs.log`.
 */
export class ReloadableTlsServer {
  reloads = 0;
  readonly reloadErrors: string[] = [];
  private readonly signalFile: string;
  readonly runLog: string;

  private constructor(
    private readonly server: tls.Server,
    readonly port: number,
    private readonly dir: string,
    private readonly files: { certFiles: string[]; keyFile: string },
  ) {
    this.signalFile = join(dir, 'reload-signal');
    this.runLog = join(dir, 'runs.log');
    writeFileSync(this.signalFile, '');
    writeFileSync(this.runLog, '');
    watchFile(this.signalFile, { interval: 50 }, (current, previous) => {
      if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) this.reload();
    });
  }

  static async start(dir: string, files: { certFiles: string[]; keyFile: string }): Promise<ReloadableTlsServer> {
    // The client closes: ending first makes s_client fail with "unexpected eof" at times.
    const server = tls.createServer(ReloadableTlsServer.context(files), (socket) => {
      socket.on('error', () => undefined);
      socket.resume();
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new ReloadableTlsServer(server, (server.address() as { port: number }).port, dir, files);
  }

  private static context({ certFiles, keyFile }: { certFiles: string[]; keyFile: string }): tls.SecureContextOptions {
    return { cert: certFiles.map((f) => readFileSync(f, 'utf8')).join(''), key: readFileSync(keyFile, 'utf8') };
  }

  /** The shell command a job runs to reload this server (optionally followed by `then`). */
  reloadCommand(then = ''): string {
    return `echo run >> ${shq(this.runLog)} && echo reload >> ${shq(this.signalFile)}${then ? `; ${then}` : ''}`;
  }

  /** How many times a reload command ran. */
  get runs(): number {
    return readFileSync(this.runLog, 'utf8').split('\n').filter(Boolean).length;
  }

  private reload(): void {
    try {
      this.server.setSecureContext(ReloadableTlsServer.context(this.files));
      this.reloads++;
    } catch (error) {
      this.reloadErrors.push((error as Error).message); // keeps serving what it had, like nginx
    }
  }

  async close(): Promise<void> {
    unwatchFile(this.signalFile);
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** nginx (the Debian package) on a loopback port, everything it writes under `prefix`. */
export class TestNginx {
  private constructor(
    readonly prefix: string,
    readonly port: number,
    private readonly conf: string,
  ) {}

  static async start(prefix: string, { serverName, certificatePath, keyPath }: { serverName: string; certificatePath: string; keyPath: string }) {
    const port = await freePort();
    mkdirSync(join(prefix, 'tmp'), { recursive: true });
    const conf = join(prefix, 'nginx.conf');
    const tmp = (name: string) => join(prefix, 'tmp', name);
    writeFileSync(
      conf,
      `daemon on;
master_process on;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${tmp('body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${serverName};
    ssl_certificate ${certificatePath};
    ssl_certificate_key ${keyPath};
    location / { return 200 "ok\\n"; }
  }
}
`,
    );
    const nginx = new TestNginx(prefix, port, conf);
    execFileSync(NGINX, nginx.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    await nginx.waitUntilListening();
    return nginx;
  }

  private args(): string[] {
    return ['-c', this.conf, '-p', this.prefix, '-e', join(this.prefix, 'error.log')];
  }

  /** `nginx ... -s reload`, as a job's reload command. */
  get reloadCommand(): string {
    return [NGINX, ...this.args(), '-s', 'reload'].map(shq).join(' ');
  }

  get pid(): number {
    return Number(readFileSync(join(this.prefix, 'nginx.pid'), 'utf8').trim());
  }

  private async waitUntilListening(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port: this.port, rejectUnauthorized: false }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${readFileSync(join(this.prefix, 'error.log'), 'utf8')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until the master has one worker left (after a reload the old one drains for a moment). */
  async settled(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const master = this.pid;
    for (;;) {
      const workers = readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .filter((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            return Number(ppid) === master && state !== 'Z';
          } catch {
            return false;
          }
        });
      if (workers.length === 1) return;
      if (Date.now() > deadline) throw new Error(`nginx still has ${workers.length} workers`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    let pid: number;
    try {
      pid = this.pid;
    } catch {
      return;
    }
    spawnSync(NGINX, [...this.args(), '-s', 'stop'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    process.kill(pid, 'SIGKILL');
  }
}

export interface Served {
  /** Leaf serial, lowercase hex. */
  serial: string;
  /** Number of certificates the server sent. */
  chainLength: number;
  /** openssl's verdict with -CAfile root and -verify_hostname. */
  verify: string;
}

/**
 * One handshake by `openssl s_client` against the root in `rootFile`: what the server sent and
 * whether it verifies. Asynchronous: the Node test server answers from this same process.
 */
export async function servedBy(port: number, serverName: string, rootFile: string): Promise<Served> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', serverName, '-CAfile', rootFile, '-verify_hostname', serverName, '-showcerts'],
      { encoding: 'utf8', timeout: 10_000 },
      // What it printed about the handshake counts even if the connection ended badly afterwards.
      (error, stdout, stderr) => (error && !stdout.includes('BEGIN CERTIFICATE') ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
    child.stdin?.end();
  });
  const pems = out.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new Error(`s_client saw no certificate:\n${out}`);
  return {
    serial: new X509Certificate(pems[0]!).serialNumber.toLowerCase(),
    chainLength: pems.length,
    verify: /Verify return code: (.*)/.exec(out)?.[1] ?? 'unknown',
  };
}

/** Polls (servers reload asynchronously) until the server serves `serial`; returns the last observation. */
export async function waitUntilServed(port: number, serverName: string, rootFile: string, serial: string, timeoutMs = 5000): Promise<Served> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const served = await servedBy(port, serverName, rootFile);
    if (served.serial === serial || Date.now() > deadline) return served;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
