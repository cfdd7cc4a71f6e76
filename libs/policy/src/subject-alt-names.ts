// Subject alternative names as comparable sets: each kind has its canonical form, so a CSR and a
// profile agree whatever the order, the case of DNS names or the spelling of an IPv6 address.
import { canonicalDnsName } from './dns-names';
import { canonicalIpAddress } from './ip-address';
import type { CertificateProfile } from './profile';
import { violation, Violation } from './violation';

export type SanKind = 'DNS' | 'IP' | 'email' | 'URI';

export interface SanEntry {
  kind: SanKind | string;
  /** As written, for messages. */
  value: string;
}

export function canonicalSan(entry: SanEntry): string {
  switch (entry.kind) {
    case 'DNS':
      return `DNS:${canonicalDnsName(entry.value)}`;
    case 'IP':
      return `IP:${canonicalIpAddress(entry.value) ?? entry.value.trim()}`;
    case 'email': {
      // The local part is case-sensitive (RFC 5321); the domain is not.
      const at = entry.value.lastIndexOf('@');
      return at < 0 ? `email:${entry.value}` : `email:${entry.value.slice(0, at)}@${entry.value.slice(at + 1).toLowerCase()}`;
    }
    default:
      return `${entry.kind}:${entry.value}`;
  }
}

export function profileSans(profile: CertificateProfile): SanEntry[] {
  return [
    ...profile.dnsNames.map((value) => ({ kind: 'DNS', value })),
    ...profile.ipAddresses.map((value) => ({ kind: 'IP', value })),
    ...(profile.emails ?? []).map((value) => ({ kind: 'email', value })),
    ...(profile.uris ?? []).map((value) => ({ kind: 'URI', value })),
  ];
}

/** One `san-missing` per profiled name the CSR lacks, one `san-unexpected` per name it adds. */
export function compareSans(requested: readonly SanEntry[], profiled: readonly SanEntry[]): Violation[] {
  const requestedKeys = new Set(requested.map(canonicalSan));
  const profiledKeys = new Set(profiled.map(canonicalSan));
  const missing = absentFrom(profiled, requestedKeys).map((entry) =>
    violation('san-missing', `the CSR lacks ${entry.kind} name ${entry.value}, which the profile requires`),
  );
  const unexpected = absentFrom(requested, profiledKeys).map((entry) =>
    violation('san-unexpected', `the CSR asks for ${entry.kind} name ${entry.value}, which the profile does not contain`),
  );
  return [...missing, ...unexpected];
}

/** Entries whose canonical form is absent from `other`, each canonical form once. */
function absentFrom(entries: readonly SanEntry[], other: Set<string>): SanEntry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = canonicalSan(entry);
    if (other.has(key) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
