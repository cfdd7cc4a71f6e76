import { DerError, objectIdentifier, oidToString, readChildren, readTlv, readWhole, sequence, TAG, tlv, unsignedInteger, x509Time } from './der';
import { formatIpAddress, ipAddressBytes, isValidDnsName, isValidEmail, isValidSubjectValue, isValidUri } from './names';
import { toPemFast } from './pem-fast';
import { toPem } from '../authority/pem';

const hex = (b: Buffer) => b.toString('hex');

describe('DER encoding', () => {
  it('encodes OIDs as the standard bytes and reads them back', () => {
    expect(hex(objectIdentifier('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    expect(hex(objectIdentifier('2.5.29.19'))).toBe('0603551d13');
    expect(hex(objectIdentifier('1.3.6.1.5.5.7.3.1'))).toBe('06082b06010505070301');
    for (const oid of ['1.2.840.113549.1.9.14', '2.999.3', '1.3.132.0.34', '2.16.840.1.101.3.4.2.1', '1.2.3.18446744073709551616']) {
      expect(oidToString(objectIdentifier(oid).subarray(2))).toBe(oid);
    }
    expect(() => objectIdentifier('3.1')).toThrow(/bad OID/);
    expect(() => objectIdentifier('1.40')).toThrow(/bad OID/);
    expect(() => oidToString(Buffer.from([0x2a, 0x80, 0x01]))).toThrow(/non-minimal/);
    expect(() => oidToString(Buffer.from([0x2a, 0x86]))).toThrow(/truncated/);
  });

  it('encodes non-negative INTEGERs minimally, with a sign byte when the top bit is set', () => {
    expect(hex(unsignedInteger(Buffer.from([0x00, 0x00, 0x01])))).toBe('020101');
    expect(hex(unsignedInteger(Buffer.from([0x80])))).toBe('02020080');
    expect(hex(unsignedInteger(Buffer.from([0x00, 0x7f, 0xff])))).toBe('02027fff');
    expect(hex(unsignedInteger(Buffer.from([0x00])))).toBe('020100');
    expect(hex(unsignedInteger(Buffer.alloc(0)))).toBe('020100');
  });

  it('uses the short and long length forms at the right boundaries, and reads them back', () => {
    for (const [length, header] of [
      [0, '3000'],
      [127, '307f'],
      [128, '308180'],
      [255, '3081ff'],
      [256, '30820100'],
      [65535, '3082ffff'],
      [65536, '3083010000'],
    ] as const) {
      const encoded = tlv(TAG.SEQUENCE, [Buffer.alloc(length, 0x41)]);
      expect(hex(encoded.subarray(0, header.length / 2))).toBe(header);
      expect(encoded.length).toBe(header.length / 2 + length);
      expect(readWhole(encoded)).toEqual({ tag: 0x30, start: 0, contentStart: header.length / 2, end: encoded.length });
    }
    const nested = sequence([tlv(TAG.INTEGER, [Buffer.from([5])]), sequence([]), tlv(TAG.NULL, [])]);
    expect(hex(nested)).toBe('3007020105300005 00'.replace(/ /g, ''));
    expect(readChildren(nested, readWhole(nested)).map((c) => c.tag)).toEqual([0x02, 0x30, 0x05]);
  });

  it('encodes times as UTCTime until 2049 and as GeneralizedTime from 2050 (RFC 5280)', () => {
    expect(x509Time(new Date('2049-12-31T23:59:59.999Z')).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(x509Time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
    expect(x509Time(new Date('1999-02-03T04:05:06Z')).toString('latin1')).toBe('\x17\x0d990203040506Z');
    expect(() => x509Time(new Date('1949-12-31T00:00:00Z'))).toThrow(RangeError);
    expect(() => x509Time(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('reads only DER: refuses indefinite, non-minimal, truncated and multi-byte-tag input, and trailing bytes', () => {
    const read = (bytes: number[]) => () => readWhole(Buffer.from(bytes));
    expect(read([0x30, 0x80, 0x00, 0x00])).toThrow(/indefinite/);
    expect(read([0x30, 0x81, 0x01, 0x00])).toThrow(/non-minimal/);
    expect(read([0x30, 0x82, 0x00, 0x81, ...new Array(0x81).fill(0)])).toThrow(/non-minimal/);
    expect(read([0x30, 0x84, 0x00, 0x00, 0x00, 0x01, 0x00])).toThrow(/length too large/);
    expect(read([0x30, 0x03, 0x02, 0x01])).toThrow(/truncated/);
    expect(read([0x30])).toThrow(/truncated/);
    expect(read([0x1f, 0x81, 0x01, 0x00])).toThrow(/multi-byte tags/);
    expect(read([0x30, 0x00, 0x00])).toThrow(/1 trailing bytes/);
    // A child may not run past its parent.
    const parent = Buffer.from([0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00]);
    expect(() => readChildren(parent, readTlv(parent, 0))).toThrow(DerError);
  });

  it('writes PEM exactly as the authority module does', () => {
    for (const size of [1, 47, 48, 49, 300, 1000]) {
      const der = Buffer.alloc(size, size);
      expect(toPemFast(der, 'CERTIFICATE')).toBe(toPem(der, 'CERTIFICATE'));
    }
  });
});

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
