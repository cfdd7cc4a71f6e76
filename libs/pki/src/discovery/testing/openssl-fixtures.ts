// Test helpers: make key material with the real openssl/keytool in a temporary directory (no key
// material is committed) and read back what openssl says about a certificate.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Workdir {
  readonly dir = mkdtempSync(join(tmpdir(), 'certfleet-discovery-'));
  path(name: string): string {
    return join(this.dir, name);
  }
  write(name: string, data: string | Buffer): string {
    writeFileSync(this.path(name), data);
    return this.path(name);
  }
  read(name: string): Buffer {
    return readFileSync(this.path(name));
  }
  /** Runs openssl with the working directory as cwd; returns stdout. */
  openssl(...args: string[]): string {
    return execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  }
  keytool(...args: string[]): string {
    return execFileSync('keytool', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A self-signed CA and a leaf it signs, keys of the given openssl -newkey spec. */
  makeCaAndLeaf(prefix: string, newkey = 'ec -pkeyopt ec_paramgen_curve:P-256'): void {
    const [alg, ...opts] = newkey.split(' ');
    const keyArgs = (name: string) => ['genpkey', '-algorithm', alg, ...opts, '-out', name];
    this.openssl(...keyArgs(`${prefix}-ca.key`));
    this.openssl('req', '-x509', '-new', '-key', `${prefix}-ca.key`, '-subj', `/C=US/O=Test Org/CN=${prefix} Root`, '-days', '3650', '-out', `${prefix}-ca.pem`);
    this.openssl(...keyArgs(`${prefix}-leaf.key`));
    this.openssl('req', '-new', '-key', `${prefix}-leaf.key`, '-subj', `/C=US/O=Test Org/CN=${prefix}.example.com`, '-out', `${prefix}-leaf.csr`);
    this.write(
      `${prefix}-leaf.ext`,
      'basicConstraints=CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' +
        `subjectAltName=DNS:${prefix}.example.com,DNS:www.${prefix}.example.com,IP:10.0.0.1,IP:2001:db8::1,email:ops@example.com,URI:https://example.com/${prefix}\n`,
    );
    this.openssl(
      'x509', '-req', '-in', `${prefix}-leaf.csr`, '-CA', `${prefix}-ca.pem`, '-CAkey', `${prefix}-ca.key`, '-days', '90',
      '-extfile', `${prefix}-leaf.ext`, '-out', `${prefix}-leaf.pem`,
    );
  }
}

export interface OpensslFacts {
  fingerprintSha256: string;
  serial: string;
  notAfter: Date;
}

/** What `openssl x509 -noout -fingerprint -sha256 -serial -enddate` prints, normalised. */
export function opensslFacts(work: Workdir, certFile: string, inform = 'PEM'): OpensslFacts {
  const out = work.openssl('x509', '-in', certFile, '-inform', inform, '-noout', '-fingerprint', '-sha256', '-serial', '-enddate');
  const field = (name: string) => new RegExp(`${name}=(.*)`).exec(out)?.[1].trim() ?? '';
  return {
    fingerprintSha256: field('sha256 Fingerprint').replace(/:/g, '').toLowerCase(),
    serial: field('serial').toLowerCase(),
    notAfter: new Date(field('notAfter')),
  };
}
