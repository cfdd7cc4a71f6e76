import { formatIpAddress, ipAddressBytes, isValidDnsName, isValidEmail, isValidSubjectValue, isValidUri } from './names';
import { toPemFast } from './pem-fast';
import { toPem } from '../authority/pem';

const hex = (b: Buffer) => b.toString('hex');

describe('certificate names', () => {
  it('turns IP addresses into their 4 or 16 bytes, and back into the RFC 5952 form', () => {
    const cases: [string, string, string][] = [
      ['192.0.2.1', 'c0000201', '192.0.2.1'],
      ['0.0.0.0', '00000000', '0.0.0.0'],
      ['::', '0'.repeat(32), '::'],
      ['::1', '0'.repeat(31) + '1', '::1'],
      ['2001:db8::', '20010db8' + '0'.repeat(24), '2001:db8::'],
      ['2001:DB8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:192.0.2.128', '00000000000000000000ffffc0000280', '::ffff:c000:280'],
      ['fe80::1:2', 'fe800000000000000000000000010002', 'fe80::1:2'],
      ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ];
    for (const [text, bytes, canonical] of cases) {
      const encoded = ipAddressBytes(text);
      expect(encoded && hex(encoded)).toBe(bytes);
      expect(formatIpAddress(encoded!)).toBe(canonical);
      if (text.includes(':')) expect(`[${canonical}]`).toBe(new URL(`http://[${text}]/`).hostname); // the WHATWG serialiser agrees
    }
    for (const bad of ['300.1.1.1', '1.2.3', '01.2.3.4', '1::2::3', 'fe80::1%eth0', '12345::', 'example.test', '', ' 192.0.2.1']) {
      expect(ipAddressBytes(bad)).toBeUndefined();
    }
    expect(formatIpAddress(Buffer.alloc(5))).toBeUndefined();
  });

  it('accepts only well-formed ASCII DNS names, emails, URIs and subject values', () => {
    for (const good of ['example.test', '*.example.test', 'a-b.c0.example', 'xn--bcher-kva.example', 'localhost']) expect(isValidDnsName(good)).toBe(true);
    for (const bad of ['', '-a.example', 'a-.example', 'a..example', 'a.*.example', 'bücher.example', 'a b.example', 'under_score.example', `${'a'.repeat(64)}.example`, `${'a.'.repeat(127)}a`]) {
      expect(isValidDnsName(bad)).toBe(false);
    }
    for (const good of ['ops@example.test', 'first.last+tag@mail.example.test']) expect(isValidEmail(good)).toBe(true);
    for (const bad of ['@example.test', 'ops@', 'ops@*.example.test', 'o ps@example.test', 'ops@exämple.test']) expect(isValidEmail(bad)).toBe(false);
    for (const good of ['https://example.test/a?b=c', 'spiffe://trust.example/ns/web', 'urn:uuid:123e4567-e89b-12d3-a456-426614174000']) expect(isValidUri(good)).toBe(true);
    for (const bad of ['example.test', 'https://exa mple.test', 'https://exämple.test', '1http://x']) expect(isValidUri(bad)).toBe(false);
    expect(isValidSubjectValue('Müller GmbH')).toBe(true);
    expect(isValidSubjectValue('é'.repeat(64))).toBe(true);
    for (const bad of ['', '   ', 'x'.repeat(65), 'line\nbreak', 'nul\u0000']) expect(isValidSubjectValue(bad)).toBe(false);
  });
});

describe('fast PEM', () => {
  it('writes PEM exactly as the authority module does', () => {
    for (const size of [1, 47, 48, 49, 300, 1000]) {
      const der = Buffer.alloc(size, size);
      expect(toPemFast(der, 'CERTIFICATE')).toBe(toPem(der, 'CERTIFICATE'));
    }
  });
});
