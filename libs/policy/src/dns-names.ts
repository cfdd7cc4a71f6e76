// DNS names: one canonical form (lower case, no trailing dot), syntax check, and allow/deny
// pattern matching for issuance policy.

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function canonicalDnsName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export function isWildcardName(name: string): boolean {
  return canonicalDnsName(name).startsWith('*.');
}

/** A hostname of LDH labels, optionally with `*` as the whole leftmost label. */
export function isValidDnsName(name: string): boolean {
  const canonical = canonicalDnsName(name);
  if (canonical.length === 0 || canonical.length > 253) return false;
  const labels = canonical.split('.');
  if (labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((label) => LABEL.test(label));
}

/**
 * `example.com` matches itself; `*.example.com` matches one label below it (and the wildcard name
 * itself); `.example.com` matches any depth below it.
 */
export function dnsNameMatches(pattern: string, name: string): boolean {
  const p = canonicalDnsName(pattern);
  const n = canonicalDnsName(name);
  if (p.startsWith('*.')) {
    if (n === p) return true;
    const suffix = p.slice(1); // ".example.com"
    if (!n.endsWith(suffix)) return false;
    const head = n.slice(0, -suffix.length);
    return head.length > 0 && !head.includes('.') && head !== '*';
  }
  if (p.startsWith('.')) return n.endsWith(p) && n.length > p.length;
  return n === p;
}
