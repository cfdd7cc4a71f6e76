import { DerError, objectIdentifier, oidToString, readChildren, readTlv, readWhole, sequence, TAG, tlv, unsignedInteger, x509Time } from './der';

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
});
