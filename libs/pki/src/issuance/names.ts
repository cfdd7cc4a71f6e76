// The names a leaf certificate may carry, checked before they are encoded: subjectAltName values
// are IA5String (ASCII) or raw IP address bytes, and a malformed one would make the certificate
// unusable or, worse, match something it should not.
import { isIP } from 'node:net';

// LDH labels with an optional leading wildcard label (as authority/server-certificate.ts); A-labels
// only: internationalised names must arrive punycoded.
const DNS_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const HOST_NAME = /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// Printable ASCII without space; RFC 5321 local parts, quoted ones included, fit in it.
const EMAIL_LOCAL = /^[\x21-\x7e]{1,64}$/;
// RFC 3986 scheme, then printable ASCII without space (URIs in certificates must be ASCII).
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/;
// Control characters have no place in a subject attribute and confuse anything that prints it.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const MAX_SUBJECT_ATTRIBUTE_LENGTH = 64; // ub-common-name, ub-organization-name (RFC 5280)

export function isValidDnsName(name: string): boolean {
  return typeof name === 'string' && name.length <= 253 && DNS_NAME.test(name);
}

export function isValidEmail(address: string): boolean {
  if (typeof address !== 'string' || address.length > 254) return false;
  const at = address.lastIndexOf('@');
  return at > 0 && EMAIL_LOCAL.test(address.slice(0, at)) && HOST_NAME.test(address.slice(at + 1));
}

export function isValidUri(uri: string): boolean {
  return typeof uri === 'string' && uri.length <= 2048 && URI.test(uri);
}

/** A subject attribute value (CN, O): 1 to 64 characters, no control characters. */
export function isValidSubjectValue(value: string): boolean {
  return typeof value === 'string' && value.trim().length > 0 && [...value].length <= MAX_SUBJECT_ATTRIBUTE_LENGTH && !CONTROL.test(value);
}

/** The 4 or 16 address bytes of an IPv4 or IPv6 address (no zone id), or undefined. */
export function ipAddressBytes(address: string): Buffer | undefined {
  if (typeof address !== 'string') return undefined;
  switch (isIP(address)) {
    case 4:
      return ipv4Bytes(address);
    case 6:
      return address.includes('%') ? undefined : ipv6Bytes(address);
    default:
      return undefined;
  }
}

function ipv4Bytes(address: string): Buffer | undefined {
  const octets = address.split('.');
  if (octets.length !== 4) return undefined;
  const bytes = Buffer.allocUnsafe(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(octets[i])) return undefined;
    const octet = Number(octets[i]);
    if (octet > 255) return undefined;
    bytes[i] = octet;
  }
  return bytes;
}

// `isIP` has already accepted the syntax; this only splits it into the eight 16-bit groups.
function ipv6Bytes(address: string): Buffer | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const v4 = ipv4Bytes(group);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return undefined;
        out.push(parseInt(group, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

/** Text form of 4 or 16 address bytes: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIpAddress(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 4.2.2: "::" never replaces a single zero group
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
