// Test-only: a temp directory with an agent state dir, the TLS files a server uses (holding an
// "old" certificate issued before any job), and builders for jobs and runners.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../log';
import { StateDir } from '../../state/state-dir';
import { JobRunner, JobRunnerOptions } from '../index';
import { CertificateJob } from '@certfleet/proto';
import { ServerSide, ServerSideOptions } from './server-side';
import { TestPki } from './test-pki';

export const SERVER_NAME = 'www.example.test';

export class JobFixture {
  readonly logs: string[] = [];
  readonly log: Logger = (level, message) => this.logs.push(`${level} ${message}`);
  readonly state: StateDir;
  readonly tlsDir: string;
  readonly fullchainPath: string;
  readonly keyPath: string;
  readonly rootFile: string;
  installedCalls = 0;

  private constructor(
    readonly dir: string,
    readonly pki: TestPki,
    readonly old: { privateKeyPem: string; certificatePem: string; serial: string },
  ) {
    this.state = new StateDir(join(dir, 'state'));
    this.tlsDir = join(dir, 'tls');
    mkdirSync(this.tlsDir, { recursive: true });
    this.fullchainPath = join(this.tlsDir, 'fullchain.pem');
    this.keyPath = join(this.tlsDir, 'key.pem');
    this.rootFile = join(dir, 'root.pem');
    writeFileSync(this.rootFile, pki.rootPem);
    this.writeOldFiles();
  }

  static async create(pki: TestPki, prefix = 'jobs-'): Promise<JobFixture> {
    const old = await pki.issueKeyAndCertificate({ commonName: SERVER_NAME, dnsNames: [SERVER_NAME], ipAddresses: ['127.0.0.1'] });
    return new JobFixture(mkdtempSync(join(tmpdir(), prefix)), pki, old);
  }

  /** The files as they were before any job: the old certificate + intermediate, and its key. */
  writeOldFiles(): void {
    writeFileSync(this.fullchainPath, this.oldFullchain, { mode: 0o644 });
    writeFileSync(this.keyPath, this.old.privateKeyPem, { mode: 0o600 });
    rmSync(`${this.fullchainPath}.certfleet-bak`, { force: true });
    rmSync(`${this.keyPath}.certfleet-bak`, { force: true });
  }

  get oldFullchain(): string {
    return this.old.certificatePem + this.pki.intermediatePem;
  }

  read(path: string): string {
    return readFileSync(path, 'utf8');
  }

  server(options?: ServerSideOptions): ServerSide {
    return new ServerSide(this.pki, options);
  }

  /** A runner over this fixture's state dir, attached to `server`. */
  runner(server: ServerSide, options: Partial<JobRunnerOptions> = {}): JobRunner {
    const runner = new JobRunner({
      stateDir: this.state,
      log: this.log,
      outbound: server,
      onInstalled: () => this.installedCalls++,
      ...options,
    });
    server.attach(runner);
    return runner;
  }

  /** A job for the fixture's fullchain + key files; `port` is where validation connects. */
  job(port: number, reloadCommand: string, overrides: Partial<CertificateJob> = {}): CertificateJob {
    return {
      jobId: randomUUID(),
      managedCertificateId: randomUUID(),
      name: 'www',
      keyType: 'ec-p256',
      commonName: SERVER_NAME,
      dnsNames: [SERVER_NAME],
      ipAddresses: ['127.0.0.1'],
      targets: [{ kind: { $case: 'fullchainPem', value: { path: this.fullchainPath, keyPath: this.keyPath } } }],
      reload: { command: reloadCommand, timeoutSeconds: 10 },
      validation: { host: '127.0.0.1', port, serverName: '', timeoutSeconds: 5 },
      attempt: 1,
      ...overrides,
    };
  }

  /** Nothing any component logged may contain key material. */
  keyMaterialInLogs(): string[] {
    return this.logs.filter((line) => /PRIVATE KEY|MII[A-Za-z0-9+/]{20}/.test(line));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
