// Test-only helpers (not exported from index.ts): an external CA run by the real `openssl ca`
// (index.txt, revocation, CRLs), a real `openssl ocsp` responder child process, and a plain
// Node HTTP server on loopback for CRLs and misbehaving responders.
import { ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { EC_P256, OpensslDir } from '../authority/openssl-test-kit';

export interface Issued {
  name: string;
  der: Buffer;
  /** Upper-case hex, as openssl writes it in index.txt. */
  serial: string;
}

export interface Extensions {
  ocsp?: string[];
  crl?: string[];
  caIssuers?: string[];
  /** More extfile lines, e.g. 'extendedKeyUsage = OCSPSigning'. */
  extra?: string[];
  /** Config sections appended to the extfile (referenced from `extra`). */
  sections?: string;
}

const CA_CONFIG = `[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = issued
certificate = ca.pem
private_key = ca.key
serial = serial
crlnumber = crlnumber
default_md = sha256
default_days = 30
default_crl_days = 1
policy = policy_any
unique_subject = no
[policy_any]
commonName = supplied
`;

/** A CA in a temp dir, run by `openssl ca`. */
export class TestCa {
  readonly dir = new OpensslDir();
  readonly der: Buffer;

  constructor(readonly subject = '/CN=Test External CA/O=certfleet tests') {
    this.dir.write('ca.cnf', CA_CONFIG);
    this.dir.write('index.txt', '');
    this.dir.write('serial', '1000\n');
    this.dir.write('crlnumber', '01\n');
    this.dir.run('req', '-x509', ...EC_P256, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', subject, '-days', '30', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    this.der = new X509Certificate(this.dir.read('ca.pem')).raw;
    mkdirSync(this.dir.file('issued'));
  }

  /** Appends sections to the CA's openssl config (e.g. CRL extension sections for -crlexts). */
  addConfig(text: string): void {
    this.dir.write('ca.cnf', `${this.dir.read('ca.cnf')}${text}\n`);
  }

  /** Issues `name.pem` through `openssl ca` (so it is in index.txt) with these extensions. */
  issue(name: string, extensions: Extensions = {}): Issued {
    this.dir.makeCsr(name, EC_P256);
    this.dir.write(`${name}.ext`, extfile(extensions));
    this.dir.run('ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`, '-extfile', `${name}.ext`, '-notext', '-subj', `/CN=${name}`);
    return this.read(name);
  }

  /** Issues `name.pem` with `openssl x509 -req`: signed by this CA but absent from index.txt. */
  issueUnrecorded(name: string, serial: string, extensions: Extensions = {}): Issued {
    this.dir.makeCsr(name, EC_P256);
    this.dir.write(`${name}.ext`, extfile(extensions));
    this.dir.run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${serial}`, '-days', '30', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
    return this.read(name);
  }

  revoke(name: string, reason: string): void {
    this.dir.run('ca', '-config', 'ca.cnf', '-revoke', `${name}.pem`, '-crl_reason', reason);
  }

  /** The revocation time openssl recorded in index.txt for `serial`. */
  revokedAt(serial: string): Date {
    const row = this.dir
      .read('index.txt')
      .split('\n')
      .map((line) => line.split('\t'))
      .find((fields) => fields[3] === serial);
    const time = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z/.exec(row?.[2] ?? '');
    if (!time) throw new Error(`serial ${serial} is not revoked in index.txt`);
    const [, yy, mo, dd, hh, mi, ss] = time.map(Number);
    return new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss));
  }

  /** `openssl ca -gencrl`; returns the PEM and DER. `crlExtensions`: an extra config section to use (-crlexts). */
  crl(name = 'ca.crl', options: { days?: number; crlExtensions?: string } = {}): { pem: string; der: Buffer } {
    const extensions = options.crlExtensions ? ['-crlexts', options.crlExtensions] : [];
    this.dir.run('ca', '-config', 'ca.cnf', '-gencrl', '-crldays', String(options.days ?? 1), ...extensions, '-out', `${name}.pem`);
    this.dir.run('crl', '-in', `${name}.pem`, '-outform', 'DER', '-out', `${name}.der`);
    return { pem: this.dir.read(`${name}.pem`), der: readFileSync(this.dir.file(`${name}.der`)) };
  }

  /**
   * A canned OCSP response made by openssl acting as responder on one request file, signed by
   * `signer` (default: this CA), with nextUpdate one day on unless `nextUpdate: false`.
   */
  cannedOcspResponse(
    request: { leaf?: string; serial?: string; nonce: boolean },
    options: { signer?: { dir: OpensslDir; cert: string; key: string }; responderArgs?: string[]; nextUpdate?: boolean } = {},
  ): Buffer {
    const signer = options.signer ?? { dir: this.dir, cert: 'ca.pem', key: 'ca.key' };
    const validity = options.nextUpdate === false ? [] : ['-ndays', '1'];
    const target = request.leaf ? ['-cert', `${request.leaf}.pem`] : ['-serial', `0x${request.serial}`];
    this.dir.run('ocsp', '-issuer', 'ca.pem', ...target, ...(request.nonce ? [] : ['-no_nonce']), '-reqout', 'canned.req');
    this.dir.run('ocsp', '-index', 'index.txt', '-CA', 'ca.pem', '-rsigner', signer.dir.file(signer.cert), '-rkey', signer.dir.file(signer.key), '-reqin', 'canned.req', '-respout', 'canned.resp', ...validity, ...(options.responderArgs ?? []));
    return readFileSync(this.dir.file('canned.resp'));
  }

  private read(name: string): Issued {
    const certificate = new X509Certificate(this.dir.read(`${name}.pem`));
    return { name, der: certificate.raw, serial: certificate.serialNumber.toUpperCase() };
  }
}

function extfile({ ocsp = [], crl = [], caIssuers = [], extra = [], sections = '' }: Extensions): string {
  const lines = ['basicConstraints = CA:FALSE', ...extra];
  const access = [...ocsp.map((url) => `OCSP;URI:${url}`), ...caIssuers.map((url) => `caIssuers;URI:${url}`)];
  if (access.length) lines.push(`authorityInfoAccess = ${access.join(', ')}`);
  if (crl.length) lines.push(`crlDistributionPoints = ${crl.map((url) => `URI:${url}`).join(', ')}`);
  return `${lines.join('\n')}\n${sections}`;
}

/** A TCP port that was free a moment ago (openssl 3.0 `ocsp -port` takes a number only). */
export async function reservePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** `openssl ocsp` as a responder on `port`, started in `dir`; resolves once it listens. */
export class OcspResponder {
  private constructor(private readonly child: ChildProcess, readonly port: number) {}

  static async start(dir: OpensslDir, port: number, args: string[]): Promise<OcspResponder> {
    const child = spawn('openssl', ['ocsp', '-port', String(port), ...args], { cwd: dir.path, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`openssl ocsp did not start: ${output}`)), 5000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill();
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('waiting for OCSP client connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => fail(new Error(`openssl ocsp exited (${code}): ${output}`)));
    });
    return new OcspResponder(child, port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse, body: Buffer) => void;

/** Plain Node HTTP server on 127.0.0.1 with per-path handlers and hit counts. */
export class TestHttpServer {
  readonly hits = new Map<string, number>();
  private readonly handlers = new Map<string, Handler>();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<TestHttpServer> {
    const server = http.createServer();
    const instance = new TestHttpServer(server);
    server.on('request', (request, response) => instance.dispatch(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return instance;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  on(path: string, handler: Handler): string {
    this.handlers.set(path, handler);
    return this.url(path);
  }

  /** Serves fixed bytes with a Content-Length (or chunked, without one). */
  serve(path: string, body: Buffer | string, options: { contentType?: string; chunked?: boolean } = {}): string {
    return this.on(path, (_request, response) => {
      response.statusCode = 200;
      response.setHeader('content-type', options.contentType ?? 'application/octet-stream');
      if (options.chunked) {
        const bytes = Buffer.from(body);
        for (let offset = 0; offset < bytes.length; offset += 1024) response.write(bytes.subarray(offset, offset + 1024));
        response.end();
      } else {
        response.end(body);
      }
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dispatch(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = request.url ?? '/';
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const handler = this.handlers.get(path);
      if (handler) return handler(request, response, Buffer.concat(chunks));
      response.statusCode = 404;
      response.end('not found');
    });
  }
}
