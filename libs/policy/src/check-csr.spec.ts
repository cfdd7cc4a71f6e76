import { checkCsrAgainstProfile } from './check-csr';
import { DEFAULT_ISSUANCE_POLICY, type IssuancePolicy } from './issuance-policy';
import { CsrMaker, derOf, EC_P256, EC_P384, RSA_2048, sans } from './openssl-test-kit';
import type { CertificateProfile } from './profile';
import type { ViolationCode } from './violation';

const maker = new CsrMaker();
afterAll(() => maker.remove());

const PROFILE: CertificateProfile = {
  keyType: 'ec-p256',
  dnsNames: ['www.example.com', 'api.example.com'],
  ipAddresses: ['10.0.0.1', '2001:db8::1'],
  validityDays: 90,
  usages: ['tls-server'],
};
const EXACT = sans('DNS:www.example.com', 'DNS:api.example.com', 'IP:10.0.0.1', 'IP:2001:db8::1');

interface Scenario {
  csr: () => string | Uint8Array;
  profile?: Partial<CertificateProfile>;
  policy?: Partial<IssuancePolicy>;
  /** Each expected code with a pattern its message must match (the offending value). */
  expected: [ViolationCode, RegExp][];
}

const scenarios: Record<string, Scenario> = {
  'exact SANs pass': { csr: () => maker.csr(EC_P256, EXACT), expected: [] },
  'exact SANs in another order, other case, long IPv6 form pass': {
    csr: () => maker.csr(EC_P256, sans('IP:2001:DB8:0:0:0:0:0:1', 'DNS:API.Example.COM', 'IP:10.0.0.1', 'DNS:www.example.com')),
    expected: [],
  },
  'a profile IPv6 address in a long spelling matches the CSR': {
    csr: () => maker.csr(EC_P256, EXACT),
    profile: { ipAddresses: ['10.0.0.1', '2001:0DB8:0:0:0:0:0:0001'] },
    expected: [],
  },
  'exact SANs from DER input pass': { csr: () => derOf(maker.csr(EC_P256, EXACT)), expected: [] },
  'RSA 2048 where RSA 2048 is profiled passes': { csr: () => maker.csr(RSA_2048, EXACT), profile: { keyType: 'rsa-2048' }, expected: [] },
  'P-384 signed with SHA-384 where P-384 is profiled passes': { csr: () => maker.csr([...EC_P384, '-sha384'], EXACT), profile: { keyType: 'ec-p384' }, expected: [] },
  'email and URI exactly as profiled pass': {
    csr: () => maker.csr(EC_P256, sans('DNS:www.example.com', 'email:Ops@Example.com', 'URI:spiffe://example.com/web')),
    profile: { dnsNames: ['www.example.com'], ipAddresses: [], emails: ['Ops@example.COM'], uris: ['spiffe://example.com/web'] },
    expected: [],
  },
  'a missing DNS SAN is named': {
    csr: () => maker.csr(EC_P256, sans('DNS:www.example.com', 'IP:10.0.0.1', 'IP:2001:db8::1')),
    expected: [['san-missing', /DNS name api\.example\.com/]],
  },
  'a missing IP SAN is named': {
    csr: () => maker.csr(EC_P256, sans('DNS:www.example.com', 'DNS:api.example.com', 'IP:10.0.0.1')),
    expected: [['san-missing', /IP name 2001:db8::1/]],
  },
  'an extra DNS SAN is named': {
    csr: () => maker.csr(EC_P256, sans('DNS:www.example.com', 'DNS:api.example.com', 'DNS:evil.example.org', 'IP:10.0.0.1', 'IP:2001:db8::1')),
    expected: [['san-unexpected', /DNS name evil\.example\.org/]],
  },
  'a different URI is both missing and unexpected': {
    csr: () => maker.csr(EC_P256, sans('DNS:www.example.com', 'URI:spiffe://example.com/db')),
    profile: { dnsNames: ['www.example.com'], ipAddresses: [], uris: ['spiffe://example.com/web'] },
    expected: [
      ['san-missing', /URI name spiffe:\/\/example\.com\/web/],
      ['san-unexpected', /URI name spiffe:\/\/example\.com\/db/],
    ],
  },
  'a CSR without SANs misses every profiled name': {
    csr: () => maker.csr(EC_P256),
    profile: { dnsNames: ['www.example.com'], ipAddresses: ['10.0.0.1'] },
    expected: [
      ['san-missing', /www\.example\.com/],
      ['san-missing', /10\.0\.0\.1/],
    ],
  },
  'RSA 1024 is too small': { csr: () => maker.rsaCsr(1024, EXACT), profile: { keyType: 'rsa-2048' }, expected: [['rsa-too-small', /1024 bits/]] },
  'RSA 3072 where RSA 2048 is profiled is a mismatch': {
    csr: () => maker.rsaCsr(3072, EXACT),
    profile: { keyType: 'rsa-2048' },
    expected: [['key-type-mismatch', /RSA 3072 bits.*rsa-2048/]],
  },
  'P-384 where P-256 is profiled is a mismatch': { csr: () => maker.csr(EC_P384, EXACT), expected: [['key-type-mismatch', /EC P-384.*ec-p256/]] },
  'a curve the policy does not allow': { csr: () => maker.csr(EC_P384, EXACT), policy: { allowedCurves: ['P-256'] }, expected: [['curve-not-allowed', /P-384/]] },
  'a SHA-1 signature is weak': { csr: () => maker.csr([...EC_P256, '-sha1'], EXACT), expected: [['weak-signature', /SHA-1/]] },
  'SHA-256 when the policy allows only SHA-384 is refused': {
    csr: () => maker.csr(EC_P256, EXACT),
    policy: { allowedSignatureHashes: ['SHA-384'] },
    expected: [['weak-signature', /ECDSA with SHA-256/]],
  },
  'SHA-1 smuggled into the policy data is still refused': {
    csr: () => maker.csr([...EC_P256, '-sha1'], EXACT),
    policy: { allowedSignatureHashes: ['SHA-1', 'SHA-256'] as unknown as IssuancePolicy['allowedSignatureHashes'] },
    expected: [['weak-signature', /SHA-1/]],
  },
  'a wildcard when the policy forbids them': {
    csr: () => maker.csr(EC_P256, sans('DNS:*.example.com')),
    profile: { dnsNames: ['*.example.com'], ipAddresses: [] },
    expected: [['wildcard-forbidden', /\*\.example\.com/]],
  },
  'a wildcard when the policy allows them passes': {
    csr: () => maker.csr(EC_P256, sans('DNS:*.example.com')),
    profile: { dnsNames: ['*.example.com'], ipAddresses: [] },
    policy: { allowWildcards: true },
    expected: [],
  },
  'a name outside the allow-list': {
    csr: () => maker.csr(EC_P256, sans('DNS:www.example.com', 'DNS:db.internal.corp')),
    profile: { dnsNames: ['www.example.com', 'db.internal.corp'], ipAddresses: [] },
    policy: { dnsNameAllow: ['*.example.com'] },
    expected: [['name-not-allowed', /db\.internal\.corp/]],
  },
  'a validity beyond the ceiling': { csr: () => maker.csr(EC_P256, EXACT), profile: { validityDays: 400 }, expected: [['validity-too-long', /400 days.*398/]] },
  'CA:TRUE requested is misuse': {
    csr: () => maker.csr(EC_P256, [...EXACT, '-addext', 'basicConstraints=critical,CA:TRUE']),
    expected: [['ca-requested', /CA:TRUE/]],
  },
  'CA:FALSE and other requested extensions do not matter': {
    csr: () => maker.csr(EC_P256, [...EXACT, '-addext', 'basicConstraints=CA:FALSE', '-addext', 'keyUsage=digitalSignature,keyCertSign']),
    expected: [],
  },
  'garbage is unreadable': { csr: () => 'this is not a CSR', expected: [['csr-unreadable', /cannot be read/]] },
  'garbage bytes are unreadable': { csr: () => new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), expected: [['csr-unreadable', /cannot be read/]] },
  'a certificate instead of a CSR is unreadable': {
    csr: () => maker.csr(EC_P256, ['-x509', '-days', '1']),
    expected: [['csr-unreadable', /CERTIFICATE|CSR/i]],
  },
  'a tampered signature has no proof of possession': {
    csr: () => {
      const der = derOf(maker.csr(EC_P256, EXACT));
      der[der.length - 1] ^= 0x01; // last byte of the ECDSA "s" value
      return der;
    },
    expected: [['csr-signature-invalid', /proof of possession/]],
  },
  'several problems are all reported': {
    csr: () => maker.rsaCsr(1024, [...sans('DNS:www.example.com', 'DNS:other.example.net'), '-sha1']),
    profile: { dnsNames: ['www.example.com'], ipAddresses: ['10.0.0.1'] },
    expected: [
      ['rsa-too-small', /1024/],
      ['weak-signature', /SHA-1/],
      ['san-missing', /10\.0\.0\.1/],
      ['san-unexpected', /other\.example\.net/],
    ],
  },
};

describe('checkCsrAgainstProfile', () => {
  it.each(Object.entries(scenarios))('%s', async (_name, scenario) => {
    const profile = { ...PROFILE, ...scenario.profile };
    const policy = { ...DEFAULT_ISSUANCE_POLICY, ...scenario.policy };
    const violations = await checkCsrAgainstProfile(scenario.csr(), profile, policy);

    expect(violations.map((v) => v.code).sort()).toEqual(scenario.expected.map(([code]) => code).sort());
    for (const [code, pattern] of scenario.expected) {
      expect(violations.filter((v) => v.code === code).some((v) => pattern.test(v.message))).toBe(true);
    }
  });

  it('never throws, even on input that is not a string or bytes', async () => {
    const violations = await checkCsrAgainstProfile(undefined as unknown as string, PROFILE, DEFAULT_ISSUANCE_POLICY);
    expect(violations.map((v) => v.code)).toEqual(['csr-unreadable']);
  });
});
