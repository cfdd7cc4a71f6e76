// Is a managed-certificate profile allowed by the issuance policy? Run when a profile is saved and
// again at every issuance, since the policy may have tightened in between.
import { canonicalDnsName, dnsNameMatches, isValidDnsName, isWildcardName } from './dns-names';
import { canonicalIpAddress } from './ip-address';
import type { IssuancePolicy } from './issuance-policy';
import { KEY_TYPES, type CertificateProfile, type KeySpec } from './profile';
import { violation, type Violation } from './violation';

export function checkProfile(profile: CertificateProfile, policy: Readonly<IssuancePolicy>): Violation[] {
  return [...checkValidity(profile, policy), ...checkProfileKey(profile, policy), ...checkNames(profile, policy), ...checkUsages(profile)];
}

function checkValidity(profile: CertificateProfile, policy: Readonly<IssuancePolicy>): Violation[] {
  const days = profile.validityDays;
  if (!Number.isInteger(days) || days <= 0) return [violation('validity-invalid', `validity of ${days} days is not a positive whole number of days`)];
  if (days > policy.maxValidityDays) return [violation('validity-too-long', `validity of ${days} days exceeds the policy ceiling of ${policy.maxValidityDays} days`)];
  return [];
}

function checkProfileKey(profile: CertificateProfile, policy: Readonly<IssuancePolicy>): Violation[] {
  const spec: KeySpec | undefined = KEY_TYPES[profile.keyType];
  if (!spec || !policy.allowedKeyTypes.includes(profile.keyType)) {
    return [violation('key-type-not-allowed', `key type ${profile.keyType} is not allowed (allowed: ${policy.allowedKeyTypes.join(', ') || 'none'})`)];
  }
  return keySpecViolations(spec, policy);
}

/** Policy limits on a concrete key: RSA size floor, EC curve list. Shared with the CSR check. */
export function keySpecViolations(spec: KeySpec, policy: Readonly<IssuancePolicy>): Violation[] {
  if (spec.algorithm === 'RSA' && spec.bits < policy.minRsaBits) {
    return [violation('rsa-too-small', `RSA key of ${spec.bits} bits is below the policy minimum of ${policy.minRsaBits} bits`)];
  }
  if (spec.algorithm === 'EC' && !policy.allowedCurves.includes(spec.curve)) {
    return [violation('curve-not-allowed', `EC curve ${spec.curve} is not allowed (allowed: ${policy.allowedCurves.join(', ') || 'none'})`)];
  }
  return [];
}

function checkNames(profile: CertificateProfile, policy: Readonly<IssuancePolicy>): Violation[] {
  const found: Violation[] = [];
  const nameCount = profile.dnsNames.length + profile.ipAddresses.length + (profile.emails?.length ?? 0) + (profile.uris?.length ?? 0);
  if (nameCount === 0) found.push(violation('no-names', 'the profile names no DNS name, IP address, email or URI'));
  for (const name of profile.dnsNames) found.push(...checkDnsName(name, policy));
  for (const address of profile.ipAddresses) {
    if (canonicalIpAddress(address) === undefined) found.push(violation('name-invalid', `IP address ${address} is not a valid IPv4 or IPv6 address`));
  }
  for (const uri of profile.uris ?? []) {
    if (!URL.canParse(uri)) found.push(violation('name-invalid', `URI ${uri} is not an absolute URI`));
  }
  for (const email of profile.emails ?? []) {
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) found.push(violation('name-invalid', `email ${email} is not an address of the form local@domain`));
  }
  if (profile.commonName !== undefined && !commonNameIsSan(profile)) {
    found.push(violation('common-name-not-in-sans', `common name ${profile.commonName} is not one of the profile's DNS names or IP addresses`));
  }
  return found;
}

function checkDnsName(name: string, policy: Readonly<IssuancePolicy>): Violation[] {
  if (!isValidDnsName(name)) return [violation('name-invalid', `DNS name ${name} is not a valid host name`)];
  const found: Violation[] = [];
  if (isWildcardName(name) && !policy.allowWildcards) found.push(violation('wildcard-forbidden', `wildcard DNS name ${name} is not allowed by the policy`));
  const denied = (policy.dnsNameDeny ?? []).find((pattern) => dnsNameMatches(pattern, name));
  if (denied !== undefined) {
    found.push(violation('name-denied', `DNS name ${name} matches the deny pattern ${denied}`));
  } else if (policy.dnsNameAllow?.length && !policy.dnsNameAllow.some((pattern) => dnsNameMatches(pattern, name))) {
    found.push(violation('name-not-allowed', `DNS name ${name} matches none of the allowed patterns (${policy.dnsNameAllow.join(', ')})`));
  }
  return found;
}

function commonNameIsSan(profile: CertificateProfile): boolean {
  const cn = profile.commonName ?? '';
  const ip = canonicalIpAddress(cn);
  if (ip !== undefined) return profile.ipAddresses.some((address) => canonicalIpAddress(address) === ip);
  return profile.dnsNames.some((name) => canonicalDnsName(name) === canonicalDnsName(cn));
}

function checkUsages(profile: CertificateProfile): Violation[] {
  return profile.usages.length === 0 ? [violation('usage-missing', 'the profile lists no certificate usage')] : [];
}
