// Test-only (not exported): certificates made by the real `openssl` in a temp directory, with
// faketime for a chosen notBefore.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derOf } from '../openssl-test-kit';

export interface MakeOptions {
  /** openssl key arguments for a fresh key, or a key file made earlier with `key()`. */
  key?: string[] | { file: string };
  subject?: string;
  days?: number;
  digest?: string;
  sans?: string[];
  /** "YYYY-MM-DD": the certificate is made at that time through faketime (its notBefore). */
  at?: string;
  /** Issue from this CA (made with `ca()`) instead of self-signing. */
  ca?: { cert: string; key: string };
  isCa?: boolean;
}

export class CertMaker {
  readonly dir = mkdtempSync(join(tmpdir(), 'certfleet-rules-'));
  private count = 0;

  /** A private key file: `openssl genpkey` / `genrsa` arguments. */
  key(args: string[]): string {
    const file = `key-${++this.count}.pem`;
    this.run([], args[0] === 'genrsa' ? ['genrsa', '-out', file, ...args.slice(1)] : ['genpkey', ...args, '-out', file]);
    return file;
  }

  /** A certificate; returns its DER. */
  make(options: MakeOptions = {}): Buffer {
    const name = `cert-${++this.count}`;
    const keyFile = options.key && 'file' in options.key ? options.key.file : this.key(options.key ?? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const subject = options.subject ?? `/CN=${name}`;
    const ext = [
      ...(options.sans?.length ? ['-addext', `subjectAltName=${options.sans.join(',')}`] : []),
      ...(options.isCa ? ['-addext', 'basicConstraints=critical,CA:TRUE'] : ['-addext', 'basicConstraints=CA:FALSE']),
    ];
    const time = options.at ? ['faketime', `${options.at} 00:00:00`] : [];
    const days = String(options.days ?? 90);
    const digest = `-${options.digest ?? 'sha256'}`;
    if (options.ca) {
      this.run([], ['req', '-new', '-key', keyFile, '-subj', subject, ...ext, '-out', `${name}.csr`]);
      this.run(time, ['x509', '-req', '-in', `${name}.csr`, '-CA', options.ca.cert, '-CAkey', options.ca.key, '-CAcreateserial', '-copy_extensions', 'copy', '-days', days, digest, '-out', `${name}.pem`]);
    } else {
      this.run(time, ['req', '-x509', '-key', keyFile, '-subj', subject, ...ext, '-days', days, digest, '-out', `${name}.pem`]);
    }
    return derOf(readFileSync(join(this.dir, `${name}.pem`), 'utf8'));
  }

  /** A self-signed CA: its certificate and key file names for `make({ ca })`. */
  ca(subject = '/CN=Test Root'): { cert: string; key: string } {
    const key = this.key(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const cert = `ca-${++this.count}.pem`;
    this.run([], ['req', '-x509', '-key', key, '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-days', '3650', '-out', cert]);
    return { cert, key };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(prefix: string[], args: string[]): void {
    const [command, ...rest] = [...prefix, 'openssl', ...args];
    execFileSync(command, rest, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
