// Test-only (not exported from index.ts): CSRs made by the real `openssl req` in a temp directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const EC_P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
export const EC_P384 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];
export const RSA_2048 = ['-newkey', 'rsa:2048'];

export class CsrMaker {
  private created?: string;
  private count = 0;

  private get path(): string {
    this.created ??= mkdtempSync(join(tmpdir(), 'certfleet-policy-'));
    return this.created;
  }

  /** `openssl req -new` with a fresh key (or an existing key file with `-key`); returns the PEM. */
  csr(keyArgs: string[], extraArgs: string[] = []): string {
    const name = `csr-${++this.count}`;
    this.openssl('req', '-new', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=ignored-by-ca', ...extraArgs);
    return readFileSync(join(this.path, `${name}.csr`), 'utf8');
  }

  /** A CSR for an RSA key of any size, made with `openssl genrsa` first (req may refuse small sizes). */
  rsaCsr(bits: number, extraArgs: string[] = []): string {
    const key = `rsa-${bits}-${++this.count}.key`;
    this.openssl('genrsa', '-out', key, String(bits));
    const name = `csr-${++this.count}`;
    this.openssl('req', '-new', '-key', key, '-out', `${name}.csr`, '-subj', '/CN=ignored-by-ca', ...extraArgs);
    return readFileSync(join(this.path, `${name}.csr`), 'utf8');
  }

  remove(): void {
    if (this.created) rmSync(this.created, { recursive: true, force: true });
  }

  private openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.path, stdio: ['ignore', 'pipe', 'pipe'] });
  }
}

export function sans(...names: string[]): string[] {
  return ['-addext', `subjectAltName=${names.join(',')}`];
}

export function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
