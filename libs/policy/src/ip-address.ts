// IP addresses in one canonical form: dotted IPv4, RFC 5952 IPv6 (lower case, zeros compressed).
import { isIP } from 'node:net';

/** The canonical form, or undefined when `address` is not an IP address. */
export function canonicalIpAddress(address: string): string | undefined {
  const trimmed = address.trim();
  switch (isIP(trimmed)) {
    case 4:
      return trimmed.split('.').map((octet) => String(Number(octet))).join('.');
    case 6:
      // The WHATWG URL parser serialises IPv6 hosts in the RFC 5952 form (it refuses zone ids).
      try {
        return new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}
