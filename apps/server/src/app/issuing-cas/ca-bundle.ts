import { X509Certificate } from 'node:crypto';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export class CaImportError extends Error {}

export interface CheckedCaChain {
  /** Between the issuing CA and the root, nearest first (may be empty). */
  intermediatesPem: string;
  rootPem: string;
}

function parse(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CaImportError(`${what} is not a readable certificate: ${(err as Error).message}`);
  }
}

/**
 * Orders and checks the certificates that make an imported issuing CA trustworthy: every link is
 * signed by the next, each issuer is a CA, and the bundle ends at a self-signed root.
 */
export function checkCaChain(issuingPem: string, bundlePem: string): CheckedCaChain {
  const issuing = parse(issuingPem, 'the issuing CA certificate');
  const pool = (bundlePem.match(CERT_BLOCK) ?? []).map((pem, i) => ({ pem: `${pem}\n`, cert: parse(pem, `certificate ${i + 1} of the chain`) }));
  if (pool.length === 0) throw new CaImportError('the chain must contain the root CA certificate (and any intermediates above the issuing CA)');
  const path: { pem: string; cert: X509Certificate }[] = [];
  let current = issuing;
  for (let depth = 0; depth <= pool.length; depth++) {
    if (current.checkIssued(current) && current.verify(current.publicKey)) {
      const root = path.pop();
      if (!root) throw new CaImportError('the issuing CA certificate is self-signed: import a CA signed by your root (certfleet ca sign-intermediate)');
      return { intermediatesPem: path.map((p) => p.pem).join(''), rootPem: root.pem };
    }
    const next = pool.find((p) => current.checkIssued(p.cert) && current.verify(p.cert.publicKey));
    if (!next) throw new CaImportError(`no certificate in the chain issued "${current.subject.replace(/\n/g, ', ')}" (issuer "${current.issuer.replace(/\n/g, ', ')}")`);
    if (!next.cert.ca) throw new CaImportError(`"${next.cert.subject.replace(/\n/g, ', ')}" is not a CA certificate`);
    path.push(next);
    current = next.cert;
  }
  throw new CaImportError('the chain does not end at a self-signed root certificate');
}
