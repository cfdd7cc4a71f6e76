// Real ACME clients (Debian certbot and lego) run as processes against certfleet's ACME directory,
// plus the bits around them the tests need: a webroot HTTP server and openssl checks.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { join, normalize } from 'node:path';

export interface ToolResult {
  code: number;
  out: string;
}

/** Runs a command to completion (no shell), stdout and stderr together. */
export function runTool(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** certbot with its state in `dir` (never /etc/letsencrypt), non-interactive, no email. */
export function certbot(dir: string, args: string[]): Promise<ToolResult> {
  return runTool('certbot', [...args, '--config-dir', join(dir, 'config'), '--work-dir', join(dir, 'work'), '--logs-dir', join(dir, 'logs'), '--non-interactive']);
}

export function lego(dir: string, server: string, args: string[], env: Record<string, string> = {}): Promise<ToolResult> {
  return runTool('lego', ['--server', server, '--path', dir, '--accept-tos', ...args], { env });
}

/** A static file server for certbot --webroot: serves <root>/.well-known/acme-challenge/* on loopback. */
export async function startWebroot(root: string, port: number): Promise<{ stop(): Promise<void>; requests: () => number }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]));
    const file = join(root, path);
    if (!path.startsWith('/.well-known/acme-challenge/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    createReadStream(file).pipe(res);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { requests: () => requests, stop: () => new Promise((r) => server.close(() => r())) };
}

/** `openssl verify` of the first certificate in `certFile` against the root, with the chain as untrusted. */
export async function opensslVerify(rootFile: string, chainFile: string, certFile: string): Promise<ToolResult> {
  return runTool('openssl', ['verify', '-CAfile', rootFile, '-untrusted', chainFile, certFile]);
}

/** The serial of a PEM certificate file as stored by certfleet (lowercase hex). */
export async function serialOf(certFile: string): Promise<string> {
  const r = await runTool('openssl', ['x509', '-in', certFile, '-noout', '-serial']);
  return r.out.trim().replace(/^serial=/, '').toLowerCase().replace(/^(00)+(?=.)/, '');
}

/** What `openssl ocsp` says about `certFile` (issued by the first certificate in `issuerFile`). */
export async function opensslOcspStatus(url: string, rootFile: string, issuerFile: string, certFile: string): Promise<ToolResult> {
  return runTool('openssl', ['ocsp', '-url', url, '-issuer', issuerFile, '-cert', certFile, '-CAfile', rootFile, '-no_nonce']);
}
