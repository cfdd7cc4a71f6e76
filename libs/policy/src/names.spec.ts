import { canonicalDnsName, dnsNameMatches, isValidDnsName } from './dns-names';
import { canonicalIpAddress } from './ip-address';

describe('dnsNameMatches', () => {
  it.each([
    ['exact name matches itself', 'example.com', 'example.com', true],
    ['exact name ignores case and a trailing dot', 'Example.COM', 'example.com.', true],
    ['exact name does not match a subdomain', 'example.com', 'www.example.com', false],
    ['wildcard matches one label', '*.example.com', 'www.example.com', true],
    ['wildcard matches the wildcard name', '*.example.com', '*.example.com', true],
    ['wildcard does not match two labels', '*.example.com', 'a.b.example.com', false],
    ['wildcard does not match the apex', '*.example.com', 'example.com', false],
    ['wildcard does not match a look-alike suffix', '*.example.com', 'wwwexample.com', false],
    ['leading dot matches any depth', '.example.com', 'a.b.example.com', true],
    ['leading dot does not match the apex', '.example.com', 'example.com', false],
    ['leading dot does not match a look-alike', '.example.com', 'badexample.com', false],
  ])('%s', (_name, pattern, name, expected) => {
    expect(dnsNameMatches(pattern, name)).toBe(expected);
  });
});

describe('isValidDnsName', () => {
  it.each([
    ['a host name', 'www.example.com', true],
    ['a single label', 'localhost', true],
    ['a leftmost wildcard', '*.example.com', true],
    ['a partial wildcard label', 'w*.example.com', false],
    ['an underscore', 'a_b.example.com', false],
    ['an empty label', 'a..example.com', false],
    ['a leading hyphen', '-a.example.com', false],
    ['a label of 64 characters', `${'a'.repeat(64)}.com`, false],
    ['the empty string', '', false],
  ])('%s', (_name, name, expected) => {
    expect(isValidDnsName(name)).toBe(expected);
  });

  it('canonical form is lower case without the trailing dot', () => {
    expect(canonicalDnsName('WWW.Example.COM.')).toBe('www.example.com');
  });
});

describe('canonicalIpAddress', () => {
  it.each([
    ['IPv4 as is', '192.0.2.1', '192.0.2.1'],
    ['IPv6 compressed and lower-cased', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['IPv6 leading zeros dropped', '2001:0db8::0001', '2001:db8::1'],
    ['IPv6 loopback', '0:0:0:0:0:0:0:1', '::1'],
    ['not an address', 'www.example.com', undefined],
    ['an IPv4 octet out of range', '192.0.2.256', undefined],
    ['an IPv6 zone id', 'fe80::1%eth0', undefined],
  ])('%s', (_name, input, expected) => {
    expect(canonicalIpAddress(input)).toBe(expected);
  });
});
