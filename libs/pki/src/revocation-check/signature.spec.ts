// verifySignature against signatures openssl made: self-signed certificates in each algorithm
// (the certificate's tbsCertificate is signed exactly like a CRL's tbsCertList or an OCSP
// tbsResponseData).
import { X509Certificate } from 'node:crypto';
import { OpensslDir } from '../authority/openssl-test-kit';
import { pkijs } from './pkijs-runtime';
import { verifySignature } from './signature';

describe('verifySignature', () => {
  let dir: OpensslDir;
  beforeAll(() => {
    dir = new OpensslDir();
  });
  afterAll(() => dir?.remove());

  const cases: [string, string, string[]][] = [
    ['sha256WithRSAEncryption', '1.2.840.113549.1.1.11', ['-newkey', 'rsa:2048', '-sha256']],
    ['RSASSA-PSS (SHA-384, salt 48)', '1.2.840.113549.1.1.10', ['-newkey', 'rsa:2048', '-sha384', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48']],
    ['ecdsa-with-SHA384 (P-384)', '1.2.840.10045.4.3.3', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1', '-sha384']],
    ['Ed25519', '1.3.101.112', ['-newkey', 'ed25519']],
  ];

  it.each(cases)('verifies %s (%s) and rejects other keys and altered data', (name, oid, keyArgs) => {
    const file = name.replace(/\W+/g, '-');
    dir.run('req', '-x509', ...keyArgs, '-nodes', '-keyout', `${file}.key`, '-out', `${file}.pem`, '-subj', `/CN=${file}`, '-days', '1');
    const x509 = new X509Certificate(dir.read(`${file}.pem`));
    const parsed = pkijs.Certificate.fromBER(x509.raw);
    expect(parsed.signatureAlgorithm.algorithmId).toBe(oid);
    const tbs = parsed.tbsView;
    const signature = parsed.signatureValue.valueBlock.valueHexView;
    expect(verifySignature(tbs, parsed.signatureAlgorithm, signature, x509.publicKey)).toBe(true);
    const altered = Buffer.from(tbs);
    altered[altered.length - 1] ^= 1;
    expect(verifySignature(altered, parsed.signatureAlgorithm, signature, x509.publicKey)).toBe(false);
    dir.run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-subj', '/CN=other', '-days', '1');
    expect(verifySignature(tbs, parsed.signatureAlgorithm, signature, new X509Certificate(dir.read('other.pem')).publicKey)).toBe(false);
  });

  it('throws for an algorithm it does not know', () => {
    const unknown = new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.3.4' });
    const key = new X509Certificate(dir.read('Ed25519.pem')).publicKey;
    expect(() => verifySignature(Buffer.from('x'), unknown, Buffer.from('y'), key)).toThrow('unsupported signature algorithm 1.2.3.4');
  });
});
