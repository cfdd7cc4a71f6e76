import { execFileSync, spawnSync } from 'node:child_process';

export interface ExpectedCertificate {
  path: string;
  fingerprintSha256: string;
  notAfter: string;
}

/**
 * What OpenSSL (not our code) says is in a tree: every regular file (`find -type f`; files reached
 * again through a symlink are the same files and are reported once, at their real path), each
 * certificate `openssl storeutl` finds in it (PEM bundles, DER, PKCS#12 with the password), and
 * for each its SHA-256 fingerprint and notAfter from `openssl x509`.
 */
export function opensslInventory(root: string, password: string): ExpectedCertificate[] {
  const find = spawnSync('find', [root, '-type', 'f'], { encoding: 'utf8' });
  const files = find.stdout.split('\n').filter(Boolean);
  const out: ExpectedCertificate[] = [];
  for (const path of files) {
    const store = spawnSync('openssl', ['storeutl', '-certs', '-passin', `pass:${password}`, path], { encoding: 'utf8' });
    const pems = store.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    for (const pem of pems) {
      const text = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-enddate'], { input: pem, encoding: 'utf8' });
      const fp = /Fingerprint=([0-9A-F:]+)/.exec(text)![1].replace(/:/g, '').toLowerCase();
      const notAfter = new Date(/notAfter=(.+)/.exec(text)![1].trim()).toISOString();
      out.push({ path, fingerprintSha256: fp, notAfter });
    }
  }
  return out;
}

export function keyOf(c: { path: string; fingerprintSha256: string; notAfter: string }): string {
  return `${c.path}|${c.fingerprintSha256}|${new Date(c.notAfter).toISOString()}`;
}
