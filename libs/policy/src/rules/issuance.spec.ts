import { compilePolicy, keyUseOf } from './evaluate';
import { issuanceBlockers } from './issuance';
import { BASELINE_POLICY, PUBLIC_TLS_POLICY } from './presets';
import { parsePolicy } from './validate-policy';
import type { CertificateProfile } from '../profile';

const profile = (over: Partial<CertificateProfile> = {}): CertificateProfile => ({
  keyType: 'ec-p256',
  dnsNames: ['www.example.com'],
  ipAddresses: [],
  validityDays: 90,
  usages: ['tls-server'],
  ...over,
});

describe('issuance blocked by the fleet policy', () => {
  const publicTls = compilePolicy(PUBLIC_TLS_POLICY);

  it('lets a profile through that meets every blocking rule', () => {
    expect(issuanceBlockers(publicTls, { profile: profile(), notBefore: new Date('2027-06-01'), signatureAlgorithm: 'ecdsa-with-SHA256' })).toEqual([]);
  });

  it('refuses a validity the CA/B schedule no longer allows on the day of issuance', () => {
    const input = { profile: profile({ validityDays: 180 }), signatureAlgorithm: 'ecdsa-with-SHA256' };
    expect(issuanceBlockers(publicTls, { ...input, notBefore: new Date('2026-06-01') })).toEqual([]);
    expect(issuanceBlockers(publicTls, { ...input, notBefore: new Date('2027-06-01') })).toEqual([
      { ruleId: 'cab-validity', rule: 'max-validity', severity: 'critical', blockIssuance: true, message: 'valid for 180 days, more than the 100 allowed for certificates issued on 2027-06-01' },
    ]);
  });

  it('refuses a SHA-1 issuing CA and names no profile fault then', () => {
    const found = issuanceBlockers(compilePolicy(BASELINE_POLICY), { profile: profile(), signatureAlgorithm: 'sha1WithRSAEncryption' });
    expect(found.map((f) => f.ruleId)).toEqual(['no-weak-signatures']);
  });

  it('only rules with blockIssuance refuse: a non-blocking key-reuse rule reports nothing here, a blocking one refuses', () => {
    const keyUse = keyUseOf([{ fingerprintSha256: 'aa', publicKeySha256: 'k1' }]);
    const input = { profile: profile(), publicKeySha256: 'k1' };
    expect(issuanceBlockers(publicTls, input, { keyUse })).toEqual([]);
    const strict = compilePolicy({ name: 'strict', rules: [{ id: 'no-reuse', type: 'key-reuse', severity: 'critical', blockIssuance: true }] });
    expect(issuanceBlockers(strict, input, { keyUse }).map((f) => f.message)).toEqual(['the same key is in 1 other certificate']);
    expect(issuanceBlockers(strict, { ...input, publicKeySha256: 'k2' }, { keyUse })).toEqual([]);
  });

  it('refuses wildcards only when a blocking no-wildcards rule is in scope', () => {
    const policy = compilePolicy({ name: 'p', rules: [{ id: 'nw', type: 'no-wildcards', severity: 'warning', blockIssuance: true, scope: { dnsNames: ['.example.com'] } }] });
    expect(issuanceBlockers(policy, { profile: profile({ dnsNames: ['*.example.com'] }) }).map((f) => f.ruleId)).toEqual(['nw']);
    expect(issuanceBlockers(policy, { profile: profile({ dnsNames: ['*.example.org'] }) })).toEqual([]);
  });
});

describe('parsePolicy', () => {
  it('accepts the presets as JSON round trips', () => {
    for (const preset of [BASELINE_POLICY, PUBLIC_TLS_POLICY]) {
      expect(parsePolicy(JSON.parse(JSON.stringify(preset)))).toEqual({ ok: true, policy: JSON.parse(JSON.stringify(preset)) });
    }
  });

  it('names every fault of a bad policy', () => {
    const result = parsePolicy({
      name: 'bad name!',
      rules: [
        { id: 'a', type: 'min-rsa-bits', bits: 100, severity: 'critical' },
        { id: 'a', type: 'max-validity', severity: 'loud', schedule: [{ from: '2026-13-45', days: 0 }] },
        { id: 'c', type: 'teleport', severity: 'info', scope: { planet: ['mars'] } },
        { id: 'd', type: 'min-tls-version', version: 'TLSv9', severity: 'info', blockIssuance: 'yes' },
      ],
    });
    expect(result).toEqual({
      ok: false,
      errors: [
        'name: 1-64 letters, digits, ".", "_" or "-"',
        'rules[0].bits: a whole number from 512 to 16384',
        'rules[1].id: a is used twice',
        'rules[1].severity: one of info, warning, critical',
        'rules[1].schedule[0]: {"from": "YYYY-MM-DD", "days": 1..36500}',
        'rules[2].scope.planet: unknown selector',
        'rules[2].type: unknown rule type "teleport"',
        'rules[3].blockIssuance: true or false',
        'rules[3].version: one of SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3',
      ],
    });
    expect(parsePolicy('baseline')).toEqual({ ok: false, errors: ['a policy is a JSON object {"name": ..., "rules": [...]}'] });
  });
});
