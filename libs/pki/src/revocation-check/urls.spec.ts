import { revocationUrls } from './urls';
import { TestCa } from './test-kit';

describe('revocationUrls', () => {
  let ca: TestCa;
  beforeAll(() => {
    ca = new TestCa('/CN=URL Test CA');
  });
  afterAll(() => ca?.dir.remove());

  it('lists http/https OCSP, caIssuers and CRL URLs in order, ignoring ldap:// and non-URI names', () => {
    const leaf = ca.issue('many-urls', {
      ocsp: ['http://ocsp1.example/', 'https://ocsp2.example/path', 'ldap://ocsp.example/'],
      caIssuers: ['http://certs.example/ca.cer', 'ldap://ldap.example/cn=CA?cACertificate'],
      // Two distribution points: ldap + http, and https + a directory name.
      extra: ['crlDistributionPoints = dp_ldap_and_http, dp_https_and_dirname'],
      sections: `[dp_ldap_and_http]
fullname = URI:ldap://ldap.example/cn=CA?certificateRevocationList, URI:http://crl1.example/ca.crl
[dp_https_and_dirname]
fullname = URI:https://crl2.example/ca.crl, dirName:dp_dirname
[dp_dirname]
CN = not a url
`,
    });
    expect(revocationUrls(leaf.der)).toEqual({
      ocsp: ['http://ocsp1.example/', 'https://ocsp2.example/path'],
      crl: ['http://crl1.example/ca.crl', 'https://crl2.example/ca.crl'],
      caIssuers: ['http://certs.example/ca.cer'],
    });
  });

  it('returns empty lists for a certificate with neither extension', () => {
    expect(revocationUrls(ca.issue('no-urls').der)).toEqual({ ocsp: [], crl: [], caIssuers: [] });
  });

  it('drops repeated URLs', () => {
    const leaf = ca.issue('repeats', { ocsp: ['http://ocsp.example/', 'http://ocsp.example/'], crl: ['http://crl.example/a.crl', 'http://crl.example/a.crl'] });
    expect(revocationUrls(leaf.der)).toEqual({ ocsp: ['http://ocsp.example/'], crl: ['http://crl.example/a.crl'], caIssuers: [] });
  });

  it('throws on bytes that are not a certificate', () => {
    expect(() => revocationUrls(Buffer.from('not a certificate'))).toThrow(/not a DER X.509 certificate/);
  });
});
