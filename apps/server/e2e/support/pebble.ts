// A real Pebble (Let's Encrypt's test ACME server) on loopback: its own TLS certificate (Debian
// ships none), its DNS pointed at the test's named, and its HTTP-01 validation at `httpPort`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stopProcess, waitFor } from './processes';

export interface TestPebble {
  directoryUrl: string;
  /** Pebble's HTTPS certificate (trust it for the directory). */
  tlsCertificatePem: string;
  /** The root its certificates chain to (fetched from the management interface). */
  rootPem(): Promise<string>;
  /** Pebble's own view of a certificate (management interface): {Status: "Valid" | "Revoked", ...}. */
  certStatus(serialHex: string): Promise<{ Status: string; Reason?: number }>;
  stop(): Promise<void>;
  output(): string;
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: new Agent({ ca }) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
    })
      .on('error', reject)
      .end();
  });
}

export async function startPebble(dir: string, opts: { dnsPort: number; httpPort: number; env?: Record<string, string> }): Promise<TestPebble> {
  mkdirSync(dir, { recursive: true });
  const [port, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'pipe' });
  writeFileSync(
    join(dir, 'pebble-config.json'),
    JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${managementPort}`, certificate: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem'), httpPort: opts.httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false } }),
  );
  const child: ChildProcess = spawn('/usr/bin/pebble', ['-config', join(dir, 'pebble-config.json'), '-dnsserver', `127.0.0.1:${opts.dnsPort}`], {
    // Every order validates afresh (no authorization reuse), without Pebble's random sleeps.
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const tlsCertificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  await waitFor(() => get(directoryUrl, tlsCertificatePem).catch(() => ''), (body) => body.includes('newOrder') || child.exitCode !== null, 20_000, 'pebble to serve its directory');
  if (child.exitCode !== null) throw new Error(`pebble exited: ${out.slice(-2000)}`);
  return {
    directoryUrl,
    tlsCertificatePem,
    rootPem: () => get(`https://127.0.0.1:${managementPort}/roots/0`, tlsCertificatePem),
    certStatus: async (serialHex) => JSON.parse(await get(`https://127.0.0.1:${managementPort}/cert-status-by-serial/${serialHex}`, tlsCertificatePem)) as { Status: string; Reason?: number },
    output: () => out,
    stop: () => stopProcess(child),
  };
}
