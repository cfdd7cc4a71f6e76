// Test-only (not exported from index.ts): a root, issuing CAs of each key type and leaves from
// them, written where the openssl CLI can read them.
import { generateKeyPairSync } from 'node:crypto';
import { FleetCaMaterial } from '../authority/fleet-ca';
import { OpensslDir } from '../authority/openssl-test-kit';
import { createIssuingCaRequest, createRootCa, signIntermediate } from '../hierarchy/ca-hierarchy';
import { IssuingCa, loadIssuingCa } from '../issuance/issuing-ca';
import { issueLeafCertificate } from '../issuance/leaf-certificate';

export type CaKind = 'P-256' | 'P-384' | 'RSA';

export interface TestCa {
  kind: CaKind;
  ca: IssuingCa;
  privateKeyPem: string;
  /** issuing CA certificate alone, and root + issuing CA (for -CAfile). */
  caFile: string;
  chainFile: string;
}

export async function createTestRoot(dir: OpensslDir): Promise<{ root: FleetCaMaterial; rootFile: string }> {
  const root = await createRootCa({ commonName: 'Revocation Test Root', organization: 'Example' });
  return { root, rootFile: dir.write('root.pem', root.certificatePem) };
}

export async function createTestCa(dir: OpensslDir, root: FleetCaMaterial, kind: CaKind): Promise<TestCa> {
  const name = `ca-${kind.toLowerCase()}`;
  let request: { privateKeyPem: string; csrPem: string };
  if (kind === 'RSA') {
    dir.run('req', '-new', '-newkey', 'rsa:3072', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/O=Example/CN=Example RSA Issuing CA');
    request = { privateKeyPem: dir.read(`${name}.key`), csrPem: dir.read(`${name}.csr`) };
  } else {
    request = await createIssuingCaRequest({ commonName: `Example ${kind} Issuing CA`, organization: 'Example' }, kind);
  }
  const certificatePem = await signIntermediate(root, request.csrPem, { validityDays: 365 });
  const ca = loadIssuingCa({ certificatePem, privateKeyPem: request.privateKeyPem, chainPem: root.certificatePem });
  return {
    kind,
    ca,
    privateKeyPem: request.privateKeyPem,
    caFile: dir.write(`${name}.pem`, certificatePem),
    chainFile: dir.write(`${name}-chain.pem`, root.certificatePem + certificatePem),
  };
}

/** A TLS server leaf from `ca`, written as `<name>.pem` (key as `<name>.key`). */
export function createTestLeaf(dir: OpensslDir, ca: IssuingCa, name: string): { serialHex: string; file: string; keyFile: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = issueLeafCertificate(ca, {
    publicKeySpki: publicKey.export({ format: 'der', type: 'spki' }),
    profile: { commonName: `${name}.example.test`, dnsNames: [`${name}.example.test`], ipAddresses: [], validityDays: 30, usages: ['tls-server'] },
  });
  return {
    serialHex: leaf.serialHex,
    file: dir.write(`${name}.pem`, leaf.certificatePem),
    keyFile: dir.write(`${name}.key`, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
  };
}

/** How `openssl crl`/`ocsp` print a time: "Jan  2 03:04:05 2030 GMT". */
export function opensslTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${months[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ${time} ${date.getUTCFullYear()} GMT`;
}
