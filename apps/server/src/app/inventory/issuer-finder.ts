// Finds each certificate's issuer certificate, which OCSP (CertID) and CRLs (signature) need:
// among the certificates any host reported, and among certfleet's own issuing CAs (whose
// certificates need not be installed anywhere). An issuer is a certificate whose subject DER equals
// the certificate's issuer DER and whose key verifies the certificate's signature.
import { X509Certificate } from 'node:crypto';
import { DataSource } from 'typeorm';
import { queryRows } from '../../database/query-rows';
import { certificateNames } from './certificate-names';

export interface Leaf {
  fingerprintSha256: string;
  der: Buffer;
  /** The issuer DN as discovery formatted it: narrows the inventory search, names the issuer in messages. */
  issuer: string;
}

export type IssuerLookup =
  | { kind: 'issuer'; der: Buffer }
  | { kind: 'self-signed' }
  | { kind: 'not-found'; detail: string };

interface Candidate {
  fingerprintSha256: string;
  der: Buffer;
  x509: X509Certificate;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The possible issuers of one batch of certificates, loaded once per batch. */
export class IssuerFinder {
  private constructor(private readonly bySubject: Map<string, Candidate[]>) {}

  static async load(ds: DataSource, leaves: readonly Leaf[]): Promise<IssuerFinder> {
    const issuerNames = [...new Set(leaves.map((leaf) => leaf.issuer).filter(Boolean))];
    // Display strings only narrow the search (same formatter on both sides); DER decides below.
    const inventory = issuerNames.length
      ? queryRows<{ fingerprint_sha256: string; der: Uint8Array }>(
          await ds.query(
            `SELECT DISTINCT ON (fingerprint_sha256) fingerprint_sha256, der FROM inventory_items
             WHERE kind = 'certificate' AND der IS NOT NULL AND subject = ANY($1) ORDER BY fingerprint_sha256`,
            [issuerNames],
          ),
        ).map((row) => ({ fingerprintSha256: row.fingerprint_sha256, der: Buffer.from(row.der) }))
      : [];
    const internal = queryRows<{ certificate_pem: string; chain_pem: string; root_pem: string | null }>(
      await ds.query(`SELECT certificate_pem, chain_pem, root_pem FROM issuing_cas WHERE certificate_pem IS NOT NULL`),
    ).flatMap((row) => [row.certificate_pem, row.chain_pem, row.root_pem ?? ''].join('\n').match(PEM_CERTIFICATE) ?? []);
    const bySubject = new Map<string, Candidate[]>();
    const add = (fingerprintSha256: string, der: Buffer) => {
      try {
        const x509 = new X509Certificate(der);
        const key = certificateNames(x509.raw).subjectDer.toString('hex');
        const list = bySubject.get(key) ?? [];
        if (!list.some((c) => c.x509.fingerprint256 === x509.fingerprint256)) list.push({ fingerprintSha256, der: x509.raw, x509 });
        bySubject.set(key, list);
      } catch {
        // Not a certificate Node can read: it cannot be anyone's issuer here.
      }
    };
    for (const row of inventory) add(row.fingerprintSha256, row.der);
    for (const pem of internal) {
      const x509 = safely(() => new X509Certificate(pem));
      if (x509) add(x509.fingerprint256.replace(/:/g, '').toLowerCase(), x509.raw);
    }
    return new IssuerFinder(bySubject);
  }

  /** Throws when the certificate itself does not parse. */
  find(leaf: Leaf): IssuerLookup {
    const certificate = new X509Certificate(leaf.der);
    const { subjectDer, issuerDer } = certificateNames(leaf.der);
    if (subjectDer.equals(issuerDer) && verifies(certificate, certificate)) return { kind: 'self-signed' };
    const named = (this.bySubject.get(issuerDer.toString('hex')) ?? []).filter((c) => c.fingerprintSha256 !== leaf.fingerprintSha256);
    const issuer = named.find((candidate) => verifies(certificate, candidate.x509));
    if (issuer) return { kind: 'issuer', der: issuer.der };
    const name = leaf.issuer || certificate.issuer.replace(/\n/g, ', ');
    return {
      kind: 'not-found',
      detail: named.length
        ? `not checked: ${named.length} certificate(s) named "${name}" are known, but no key among them verifies this certificate's signature`
        : `not checked: its issuer "${name}" is not in the inventory of any host nor among certfleet's issuing CAs`,
    };
  }
}

function verifies(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return safely(() => certificate.verify(issuer.publicKey)) ?? false;
}

function safely<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch {
    return undefined;
  }
}
