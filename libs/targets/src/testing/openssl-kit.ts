// Test-only (not exported): a temp directory, real `openssl` (and Java's `keytool`), and a root →
// intermediate → leaf chain made by openssl itself, so tests check our files against independent
// implementations.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InstallMaterial } from '../types';

export class Workdir {
  readonly path = mkdtempSync(join(tmpdir(), 'certfleet-targets-'));

  file(name: string): string {
    return join(this.path, name);
  }

  read(name: string): string {
    return readFileSync(this.file(name), 'utf8');
  }

  /** Runs openssl in this directory; throws with stderr when it exits non-zero. */
  openssl(args: string[], input?: string): string {
    return execFileSync('openssl', args, { cwd: this.path, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  }

  attempt(args: string[]): { status: number | null; output: string } {
    const result = spawnSync('openssl', args, { cwd: this.path, encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** Runs keytool in this directory; never throws, so tests can assert on refusals too. */
  keytool(args: string[]): { status: number | null; output: string } {
    const result = spawnSync('keytool', args, { cwd: this.path, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  fingerprint(pem: string): string {
    return this.openssl(['x509', '-noout', '-fingerprint', '-sha256'], pem).trim();
  }

  /** SPKI of a certificate or private key, as PEM, computed by openssl. */
  publicKeyOfCertificate(pem: string): string {
    return this.openssl(['x509', '-noout', '-pubkey'], pem);
  }

  publicKeyOfKey(pem: string): string {
    return this.openssl(['pkey', '-pubout'], pem);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface TestChain extends InstallMaterial {
  rootPem: string;
  intermediatePem: string;
}

/** Root and intermediate CA (EC P-256) and a leaf with `leafKeyArgs` (default RSA 2048), signed by openssl. */
export function makeChain(dir: Workdir, name: string, leafKeyArgs = ['-newkey', 'rsa:2048']): TestChain {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  const run = (...args: string[]) => dir.openssl(args);
  run('req', '-x509', ...ec, '-nodes', '-keyout', `${name}-root.key`, '-out', `${name}-root.pem`, '-subj', `/CN=${name} root`, '-days', '2');
  run('req', '-new', ...ec, '-nodes', '-keyout', `${name}-int.key`, '-out', `${name}-int.csr`, '-subj', `/CN=${name} intermediate`);
  writeFileSync(dir.file(`${name}-ca.ext`), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
  run('x509', '-req', '-in', `${name}-int.csr`, '-CA', `${name}-root.pem`, '-CAkey', `${name}-root.key`, '-set_serial', '2', '-days', '2',
    '-extfile', `${name}-ca.ext`, '-out', `${name}-int.pem`);
  run('req', '-new', ...leafKeyArgs, '-nodes', '-keyout', `${name}-leaf.key`, '-out', `${name}-leaf.csr`, '-subj', `/CN=${name}.example`);
  run('x509', '-req', '-in', `${name}-leaf.csr`, '-CA', `${name}-int.pem`, '-CAkey', `${name}-int.key`, '-set_serial', '3', '-days', '1', '-out', `${name}-leaf.pem`);
  return {
    certificatePem: dir.read(`${name}-leaf.pem`),
    chainPem: dir.read(`${name}-int.pem`),
    privateKeyPem: dir.read(`${name}-leaf.key`),
    rootPem: dir.read(`${name}-root.pem`),
    intermediatePem: dir.read(`${name}-int.pem`),
  };
}
