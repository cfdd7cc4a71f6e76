// A PEM file: any mix of certificates, PKCS#7 bundles and private keys ("combined" files).
import { buildCertificates, CertificateEntry } from './certificate-set';
import { splitPem } from './pem';
import { pkcs7Certificates } from './pkcs7';
import { readPrivateKey } from './private-key';
import { DiscoveredFileInfo, DiscoveryProblem, FileReadResult } from './types';

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const PKCS7_LABELS = new Set(['PKCS7', 'CMS']);
const KEY_LABELS = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY']);
/** Labels discovery reads; blocks with other labels (CSRs, CRLs, parameters, ...) are ignored. */
export const isDiscoveryLabel = (label: string) => CERTIFICATE_LABELS.has(label) || PKCS7_LABELS.has(label) || KEY_LABELS.has(label);

export function readPemFile(
  data: Buffer,
  path: string,
  passwords: string[],
  file: DiscoveredFileInfo | undefined,
): FileReadResult {
  const { blocks, errors } = splitPem(data.toString('latin1'));
  const problems: DiscoveryProblem[] = [];
  const result: FileReadResult = { isCertificateFile: false, format: 'pem', certificates: [], privateKeys: [], problems };
  const entries: CertificateEntry[] = [];
  for (const error of errors) {
    if (isDiscoveryLabel(error.label)) problems.push({ path, kind: 'corrupt', reason: error.reason, format: 'pem' });
  }
  for (const block of blocks) {
    if (CERTIFICATE_LABELS.has(block.label)) {
      entries.push({ der: block.der }); // TRUSTED CERTIFICATE: trailing OpenSSL aux data is ignored
    } else if (PKCS7_LABELS.has(block.label)) {
      result.format = 'pkcs7';
      try {
        entries.push(...pkcs7Certificates(block.der).map((der) => ({ der })));
      } catch (error) {
        problems.push({ path, kind: 'corrupt', reason: `PKCS#7 block does not decode (${(error as Error).message})`, format: 'pkcs7' });
      }
    } else if (KEY_LABELS.has(block.label)) {
      const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || block.headers.some((h) => /ENCRYPTED/.test(h));
      const outcome = readPrivateKey({ pem: block.text }, encrypted, passwords, file);
      if (outcome.ok) result.privateKeys.push(outcome.key);
      else problems.push({ path, kind: outcome.kind, reason: outcome.reason, format: 'pem' });
    }
  }
  result.certificates = buildCertificates(entries, result.format || 'pem', path, file, problems);
  return result;
}
