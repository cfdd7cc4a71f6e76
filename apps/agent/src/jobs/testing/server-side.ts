// Test-only: the control server's side of the job messages, with a real CA behind it. Like the
// server it signs at most one certificate per job and answers a repeated CSR for the same key with
// the same certificate.
import { createPublicKey } from 'node:crypto';
import { x509 } from '@certfleet/pki';
import type { JobRunner, JobOutbound } from '../index';
import type { JobCertificate, JobCsr, JobResult } from '@certfleet/proto';
import { Issued, TestPki } from './test-pki';

export interface ServerSideOptions {
  /** Answer each CSR with the job's certificate (default true). */
  sign?: boolean;
  /** Acknowledge each result (default true). */
  ack?: boolean;
  /** Change the certificate message before it is delivered (bad chains, wrong keys...). */
  tamper?: (msg: JobCertificate) => JobCertificate | Promise<JobCertificate>;
}

export class ServerSide implements JobOutbound {
  readonly csrs: JobCsr[] = [];
  readonly results: JobResult[] = [];
  readonly certificates = new Map<string, { publicKey: string; issued: Issued }>();
  runner!: JobRunner;
  /** What went wrong on this side (a test fails on it in settled()). */
  readonly errors: Error[] = [];
  private inFlight = 0;
  private work: Promise<unknown> = Promise.resolve();

  constructor(
    readonly pki: TestPki,
    private readonly options: ServerSideOptions = {},
  ) {}

  attach(runner: JobRunner): this {
    this.runner = runner;
    return this;
  }

  sendCsr(msg: JobCsr): void {
    this.csrs.push(msg);
    if (this.options.sign === false) return;
    this.track(async () => this.runner.onCertificate(await this.certificateMessage(msg)));
  }

  sendResult(msg: JobResult): void {
    this.results.push(msg);
    if (this.options.ack === false) return;
    this.track(async () => this.runner.onResultAck({ jobId: msg.jobId }));
  }

  /** What the server would answer to this CSR (the same certificate for the same job and key). */
  async certificateMessage(msg: JobCsr): Promise<JobCertificate> {
    const csr = new x509.Pkcs10CertificateRequest(msg.csrPem);
    const publicKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' })
      .export({ format: 'der', type: 'spki' })
      .toString('base64');
    let entry = this.certificates.get(msg.jobId);
    if (entry && entry.publicKey !== publicKey) throw new Error(`server: job ${msg.jobId} already has a certificate for another key`);
    if (!entry) {
      entry = { publicKey, issued: await this.pki.sign(msg.csrPem) };
      this.certificates.set(msg.jobId, entry);
    }
    const message: JobCertificate = {
      jobId: msg.jobId,
      certificatePem: entry.issued.certificatePem,
      chainPem: this.pki.intermediatePem,
      rootPem: this.pki.rootPem,
    };
    return this.options.tamper ? this.options.tamper(message) : message;
  }

  /** Resolves when neither this side nor the runner has anything left to do. */
  async settled(): Promise<void> {
    await this.quiet();
    if (this.errors.length > 0) throw this.errors[0];
  }

  private async quiet(): Promise<void> {
    for (;;) {
      await this.work;
      await this.runner.idle();
      if (this.inFlight === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (this.inFlight === 0) {
          await this.runner.idle();
          if (this.inFlight === 0) return;
        }
      }
    }
  }

  private track(task: () => Promise<void>): void {
    this.inFlight++;
    const run = (async () => {
      await new Promise((resolve) => setImmediate(resolve)); // as if it came back over the network
      try {
        await task();
      } catch (error) {
        this.errors.push(error as Error);
      } finally {
        this.inFlight--;
      }
    })();
    this.work = Promise.all([this.work, run]);
  }
}
