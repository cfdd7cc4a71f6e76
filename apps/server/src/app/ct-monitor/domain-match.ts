// Which watched domain a certificate name falls under: the domain itself or any subdomain; a
// wildcard name covers the names one label below its base.

/** Lowercase, no trailing dot; throws on anything that is not a DNS name. */
export function normaliseDomain(input: string): string {
  const domain = input.trim().toLowerCase().replace(/\.$/, '');
  if (!/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)+$/.test(domain)) {
    throw new Error(`not a domain name: "${input}" (e.g. example.com)`);
  }
  return domain;
}

/** The watched domain `name` matches, or undefined. */
export function matchWatched(name: string, watched: readonly string[]): string | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const wildcard = lower.startsWith('*.');
  const base = wildcard ? lower.slice(2) : lower;
  return watched.find((domain) => {
    if (base === domain || base.endsWith(`.${domain}`)) return true;
    // *.example.com covers www.example.com when that is what is watched.
    return wildcard && domain.endsWith(`.${base}`) && !domain.slice(0, -base.length - 1).includes('.');
  });
}
