// Test-only (not exported from index.ts): a root → intermediate → leaf PKI made by the real
// `openssl` (the intermediate runs `openssl ca`, so it can also answer OCSP), the leaves the
// endpoint specs serve, and TLS servers that serve them on loopback: Node's and Debian's nginx.
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { EC_P256, OpensslDir } from '../../authority/openssl-test-kit';
import { TestCa } from '../../revocation-check/test-kit';

export const NGINX = '/usr/sbin/nginx';

/** What one test endpoint serves: files in the intermediate's directory. */
export interface ServedFiles {
  /** Leaf PEM, followed by the intermediate unless the chain is meant to be incomplete. */
  chainFile: string;
  keyFile: string;
  leaf: X509Certificate;
  /** Only TLS 1.0 (and the ciphers old clients know). */
  tls10Only?: boolean;
  /** A DER OCSP response to staple. */
  ocspFile?: string;
}

export type EndpointCase = 'good' | 'expired' | 'wrongHost' | 'incompleteChain' | 'tls10';

export class EndpointTestPki {
  readonly root = new OpensslDir();
  readonly intermediate = new TestCa('/CN=Endpoint Test Intermediate/O=certfleet tests');
  readonly rootPem: string;
  readonly intermediatePem: string;
  readonly cases: Record<EndpointCase, ServedFiles>;

  constructor() {
    this.root.run('req', '-x509', ...EC_P256, '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=Endpoint Test Root/O=certfleet tests', '-days', '30',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    this.rootPem = this.root.read('root.pem');
    // TestCa made a self-signed CA; re-sign its key and name by the root to make it an intermediate.
    const dir = this.intermediate.dir;
    dir.run('x509', '-x509toreq', '-in', 'ca.pem', '-signkey', 'ca.key', '-out', 'ca.csr');
    dir.write('ca.ext', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    dir.run('x509', '-req', '-in', 'ca.csr', '-CA', this.root.file('root.pem'), '-CAkey', this.root.file('root.key'), '-set_serial', '0x1F', '-days', '30', '-extfile', 'ca.ext', '-out', 'ca.pem');
    this.intermediatePem = dir.read('ca.pem');
    const localhost = ['subjectAltName = DNS:localhost, DNS:www.endpoint.test, IP:127.0.0.1'];
    const good = this.leaf('good', localhost);
    const expired = this.expiredLeaf('expired', localhost);
    const wrongHost = this.leaf('wrong-host', ['subjectAltName = DNS:elsewhere.example']);
    // The good leaf, stapled with a real `openssl ocsp` answer from the intermediate.
    writeFileSync(dir.file('good.ocsp'), this.intermediate.cannedOcspResponse({ leaf: 'good', nonce: false }));
    this.cases = {
      good: { ...good, ocspFile: dir.file('good.ocsp') },
      expired,
      wrongHost,
      incompleteChain: { ...good, chainFile: dir.file('good-alone.pem') },
      tls10: { ...good, tls10Only: true },
    };
    dir.write('good-alone.pem', good.leaf.toString());
  }

  remove(): void {
    this.root.remove();
    this.intermediate.dir.remove();
  }

  private leaf(name: string, extra: string[]): ServedFiles {
    this.intermediate.issue(name, { extra });
    return this.files(name);
  }

  private expiredLeaf(name: string, extra: string[]): ServedFiles {
    const dir = this.intermediate.dir;
    dir.makeCsr(name, EC_P256);
    dir.write(`${name}.ext`, ['basicConstraints = CA:FALSE', ...extra].join('\n'));
    dir.run('ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`, '-extfile', `${name}.ext`, '-notext', '-subj', `/CN=${name}`,
      '-startdate', '20200101000000Z', '-enddate', '20200201000000Z');
    return this.files(name);
  }

  private files(name: string): ServedFiles {
    const dir = this.intermediate.dir;
    const leafPem = dir.read(`${name}.pem`);
    dir.write(`${name}-chain.pem`, `${leafPem}${this.intermediatePem}`);
    return { chainFile: dir.file(`${name}-chain.pem`), keyFile: dir.file(`${name}.key`), leaf: new X509Certificate(leafPem) };
  }
}

const OLD_TLS = { minVersion: 'TLSv1' as const, maxVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' };

/** A Node TLS server on 127.0.0.1:<free port> serving `files`. */
export async function startNodeTlsServer(files: ServedFiles): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer({ cert: readFileSync(files.chainFile), key: readFileSync(files.keyFile), ...(files.tls10Only ? OLD_TLS : {}) }, (socket) => socket.end());
  server.on('tlsClientError', () => undefined); // version probes the server refuses are expected
  if (files.ocspFile) {
    const response = readFileSync(files.ocspFile);
    server.on('OCSPRequest', (_certificate: Buffer, _issuer: Buffer, done: (error: Error | null, response?: Buffer) => void) => done(null, response));
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One nginx (Debian's), one server block per case on its own loopback port; everything under `prefix`. */
export class TestNginxEndpoints {
  private constructor(readonly prefix: string, readonly ports: Map<string, number>) {}

  static async start(prefix: string, cases: Record<string, ServedFiles>): Promise<TestNginxEndpoints> {
    mkdirSync(join(prefix, 'tmp'), { recursive: true });
    const ports = new Map<string, number>();
    const servers: string[] = [];
    for (const [name, files] of Object.entries(cases)) {
      const port = await freePort();
      ports.set(name, port);
      // Debian's nginx 1.22 defaults to TLS 1.0-1.2; say what a current server would.
      const old = files.tls10Only ? '    ssl_protocols TLSv1;\n    ssl_ciphers DEFAULT:@SECLEVEL=0;\n' : '    ssl_protocols TLSv1.2 TLSv1.3;\n';
      const stapling = files.ocspFile ? `    ssl_stapling on;\n    ssl_stapling_file ${files.ocspFile};\n` : '';
      servers.push(`  server {\n    listen 127.0.0.1:${port} ssl;\n    ssl_certificate ${files.chainFile};\n    ssl_certificate_key ${files.keyFile};\n${old}${stapling}    location / { return 200 "ok\\n"; }\n  }`);
    }
    const tmp = (name: string) => join(prefix, 'tmp', name);
    writeFileSync(
      join(prefix, 'nginx.conf'),
      `daemon on;\nmaster_process on;\nworker_processes 1;\npid ${join(prefix, 'nginx.pid')};\nerror_log ${join(prefix, 'error.log')} info;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n` +
        `  client_body_temp_path ${tmp('body')};\n  proxy_temp_path ${tmp('proxy')};\n  fastcgi_temp_path ${tmp('fastcgi')};\n  uwsgi_temp_path ${tmp('uwsgi')};\n  scgi_temp_path ${tmp('scgi')};\n${servers.join('\n')}\n}\n`,
    );
    const nginx = new TestNginxEndpoints(prefix, ports);
    execFileSync(NGINX, nginx.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    await nginx.waitUntilListening();
    return nginx;
  }

  port(name: string): number {
    const port = this.ports.get(name);
    if (port === undefined) throw new Error(`no nginx server for ${name}`);
    return port;
  }

  private args(): string[] {
    return ['-c', join(this.prefix, 'nginx.conf'), '-p', this.prefix, '-e', join(this.prefix, 'error.log')];
  }

  private pid(): number | undefined {
    try {
      return Number(readFileSync(join(this.prefix, 'nginx.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  private async waitUntilListening(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (const port of this.ports.values()) {
      for (;;) {
        const listening = await new Promise<boolean>((resolve) => {
          const socket = createServer().listen(port, '127.0.0.1');
          socket.once('listening', () => socket.close(() => resolve(false)));
          socket.once('error', () => resolve(true));
        });
        if (listening) break;
        if (Date.now() > deadline) throw new Error(`nginx did not start: ${readFileSync(join(this.prefix, 'error.log'), 'utf8')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async stop(): Promise<void> {
    const pid = this.pid();
    if (!pid) return;
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
  }
}
