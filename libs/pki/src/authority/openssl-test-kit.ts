// Test-only helpers (not exported from index.ts): a temp directory and the real `openssl` CLI,
// so tests check our output against an independent implementation.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class OpensslDir {
  private created?: string;

  // Made on first use, so a describe block skipped by a filter leaves nothing behind.
  get path(): string {
    this.created ??= mkdtempSync(join(tmpdir(), 'certfleet-authority-'));
    return this.created;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  write(name: string, data: string | Uint8Array): string {
    writeFileSync(this.file(name), data);
    return this.file(name);
  }

  read(name: string): string {
    return readFileSync(this.file(name), 'utf8');
  }

  /** Runs openssl in this directory; throws with stderr when it exits non-zero. */
  run(...args: string[]): string {
    return execFileSync('openssl', args, { cwd: this.path, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs openssl and returns status and combined output, for expected failures. */
  attempt(...args: string[]): { status: number | null; output: string } {
    const result = spawnSync('openssl', args, { cwd: this.path, encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** `openssl req -new` with a fresh key; returns the CSR PEM. `keyArgs` e.g. ['-newkey', 'ec', '-pkeyopt', ...]. */
  makeCsr(name: string, keyArgs: string[], extraArgs: string[] = []): string {
    this.run('req', '-new', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=ignored-by-ca', ...extraArgs);
    return this.read(`${name}.csr`);
  }

  remove(): void {
    if (this.created) rmSync(this.created, { recursive: true, force: true });
  }
}

export const EC_P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
