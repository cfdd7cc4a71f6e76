import { checkProfile } from './check-profile';
import { DEFAULT_ISSUANCE_POLICY, type IssuancePolicy } from './issuance-policy';
import type { CertificateProfile } from './profile';
import type { ViolationCode } from './violation';

const PROFILE: CertificateProfile = {
  keyType: 'ec-p256',
  dnsNames: ['www.example.com'],
  ipAddresses: ['192.0.2.10'],
  commonName: 'www.example.com',
  validityDays: 90,
  usages: ['tls-server', 'tls-client'],
};

type Scenario = [name: string, profile: Partial<CertificateProfile>, policy: Partial<IssuancePolicy>, expected: [ViolationCode, RegExp][]];

const scenarios: Scenario[] = [
  ['a plain profile within the default policy', {}, {}, []],
  ['validity exactly at the ceiling', { validityDays: 398 }, {}, []],
  ['validity beyond the ceiling', { validityDays: 399 }, {}, [['validity-too-long', /399 days.*398 days/]]],
  ['validity beyond a tighter ceiling', { validityDays: 90 }, { maxValidityDays: 47 }, [['validity-too-long', /90 days.*47 days/]]],
  ['zero validity', { validityDays: 0 }, {}, [['validity-invalid', /0 days/]]],
  ['fractional validity', { validityDays: 1.5 }, {}, [['validity-invalid', /1\.5 days/]]],
  ['a key type the policy leaves out', { keyType: 'rsa-2048' }, { allowedKeyTypes: ['ec-p256'] }, [['key-type-not-allowed', /rsa-2048/]]],
  ['an RSA size below the policy floor', { keyType: 'rsa-2048' }, { minRsaBits: 3072 }, [['rsa-too-small', /2048 bits.*3072/]]],
  ['a curve the policy leaves out', { keyType: 'ec-p384' }, { allowedCurves: ['P-256'] }, [['curve-not-allowed', /P-384/]]],
  ['a wildcard when forbidden', { dnsNames: ['*.example.com'], commonName: undefined }, {}, [['wildcard-forbidden', /\*\.example\.com/]]],
  ['a wildcard when allowed', { dnsNames: ['*.example.com'], commonName: undefined }, { allowWildcards: true }, []],
  ['names inside the allow-list', { dnsNames: ['www.example.com', 'example.com'] }, { dnsNameAllow: ['*.example.com', 'example.com'] }, []],
  ['a name outside the allow-list', { dnsNames: ['www.example.com', 'db.example.net'] }, { dnsNameAllow: ['*.example.com'] }, [['name-not-allowed', /db\.example\.net/]]],
  ['a name two labels below a one-label pattern', { dnsNames: ['www.example.com', 'a.b.example.com'] }, { dnsNameAllow: ['*.example.com'] }, [['name-not-allowed', /a\.b\.example\.com/]]],
  ['a name any depth below a leading-dot pattern', { dnsNames: ['www.example.com', 'a.b.example.com'] }, { dnsNameAllow: ['.example.com'] }, []],
  ['a denied name, even when allowed', { dnsNames: ['www.example.com', 'admin.example.com'] }, { dnsNameAllow: ['*.example.com'], dnsNameDeny: ['admin.example.com'] }, [['name-denied', /admin\.example\.com.*admin\.example\.com/]]],
  ['an invalid DNS name', { dnsNames: ['www.example.com', 'bad_name.example.com'] }, {}, [['name-invalid', /bad_name\.example\.com/]]],
  ['a wildcard not in the leftmost label', { dnsNames: ['www.example.com', 'www.*.example.com'] }, { allowWildcards: true }, [['name-invalid', /www\.\*\.example\.com/]]],
  ['an invalid IP address', { ipAddresses: ['192.0.2.300'] }, {}, [['name-invalid', /192\.0\.2\.300/]]],
  ['an invalid email', { emails: ['not-an-address'] }, {}, [['name-invalid', /not-an-address/]]],
  ['an invalid URI', { uris: ['no scheme here'] }, {}, [['name-invalid', /no scheme here/]]],
  ['a common name that is no SAN', { commonName: 'other.example.com' }, {}, [['common-name-not-in-sans', /other\.example\.com/]]],
  ['a common name that is an IPv6 SAN in another spelling', { ipAddresses: ['2001:db8::1'], commonName: '2001:DB8:0::1' }, {}, []],
  ['no names at all', { dnsNames: [], ipAddresses: [], commonName: undefined }, {}, [['no-names', /no DNS name/]]],
  ['no usages', { usages: [] }, {}, [['usage-missing', /usage/]]],
];

describe('checkProfile', () => {
  it.each(scenarios)('%s', (_name, profile, policy, expected) => {
    const violations = checkProfile({ ...PROFILE, ...profile }, { ...DEFAULT_ISSUANCE_POLICY, ...policy });
    expect(violations.map((v) => v.code).sort()).toEqual(expected.map(([code]) => code).sort());
    for (const [code, pattern] of expected) {
      expect(violations.filter((v) => v.code === code).some((v) => pattern.test(v.message))).toBe(true);
    }
  });

  it('the default policy allows no hash weaker than SHA-256', () => {
    expect([...DEFAULT_ISSUANCE_POLICY.allowedSignatureHashes].sort()).toEqual(['SHA-256', 'SHA-384', 'SHA-512']);
  });
});
