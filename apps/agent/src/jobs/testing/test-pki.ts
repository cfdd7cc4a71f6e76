// Test-only (not built): a root and an issuing CA made with @certfleet/pki, and a signer for the
// agent's CSRs standing in for the server's side of the job stream.
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { createIssuingCaRequest, createKeyAndCsrFor, createRootCa, CsrKeyType, signIntermediate, x509 } from '@certfleet/pki';

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
type Crypto = Parameters<typeof x509.X509CertificateGenerator.create>[1];
const crypto = webcrypto as unknown as Crypto;

export interface Issued {
  certificatePem: string;
  serial: string;
}

export class TestPki {
  private constructor(
    readonly rootPem: string,
    readonly intermediatePem: string,
    private readonly intermediateKeyPem: string,
  ) {}

  /** Root (P-384) → issuing CA (P-256), as an operator would set them up. */
  static async create(name = 'Jobs Test'): Promise<TestPki> {
    const root = await createRootCa({ commonName: `${name} Root`, organization: 'certfleet tests' }, { validityDays: 30 });
    const issuing = await createIssuingCaRequest({ commonName: `${name} Issuing CA`, organization: 'certfleet tests' });
    const intermediatePem = await signIntermediate(root, issuing.csrPem, { validityDays: 10 });
    return new TestPki(root.certificatePem, intermediatePem, issuing.privateKeyPem);
  }

  /** Another, unrelated hierarchy with the same names: for chains that must not verify. */
  static async impostor(): Promise<TestPki> {
    return TestPki.create();
  }

  /** Signs a CSR: its public key and SANs, serverAuth, 2 days, a random serial. */
  async sign(csrPem: string, { validityMs = 2 * 24 * 3600_000 }: { validityMs?: number } = {}): Promise<Issued> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify(crypto))) throw new Error('test CA: CSR signature does not verify');
    const issuer = new x509.X509Certificate(this.intermediatePem);
    const signingKey = await webcrypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(this.intermediateKeyPem),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    const san = csr.getExtension('2.5.29.17'); // subjectAltName, copied as the agent asked
    const serialBytes = randomBytes(16);
    serialBytes[0] = (serialBytes[0] & 0x7f) | 0x10;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialBytes.toString('hex'),
        subject: csr.subjectName,
        issuer: issuer.subjectName,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + validityMs),
        publicKey: csr.publicKey,
        signingKey,
        signingAlgorithm: ECDSA_P256,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          ...(san ? [new x509.SubjectAlternativeNameExtension(san.rawData)] : []),
          await x509.AuthorityKeyIdentifierExtension.create(issuer, false, crypto),
          await x509.SubjectKeyIdentifierExtension.create(csr.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    const certificatePem = `${cert.toString('pem')}\n`;
    return { certificatePem, serial: new X509Certificate(certificatePem).serialNumber.toLowerCase() };
  }

  /** A key and certificate issued outside any job: what a server serves before the first job. */
  async issueKeyAndCertificate(names: { commonName?: string; dnsNames: string[]; ipAddresses?: string[] }, keyType: CsrKeyType = 'ec-p256') {
    const { privateKeyPem, csrPem } = await createKeyAndCsrFor({ keyType, ipAddresses: [], ...names });
    return { privateKeyPem, ...(await this.sign(csrPem)) };
  }
}
