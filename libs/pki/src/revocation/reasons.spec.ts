import { generalizedTime } from './generalized-time';
import { isRevocationReason, REVOCATION_REASONS, revocationReasonCode } from './reasons';

describe('revocation reasons', () => {
  it('lists the RFC 5280 CRLReason names in code order, with 7 unassigned', () => {
    expect(REVOCATION_REASONS).toEqual([
      'unspecified',
      'keyCompromise',
      'caCompromise',
      'affiliationChanged',
      'superseded',
      'cessationOfOperation',
      'certificateHold',
      'removeFromCRL',
      'privilegeWithdrawn',
      'aACompromise',
    ]);
    expect(REVOCATION_REASONS.map(revocationReasonCode)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10]);
    expect(Object.isFrozen(REVOCATION_REASONS)).toBe(true);
  });

  it('recognises only those names', () => {
    for (const reason of REVOCATION_REASONS) expect(isRevocationReason(reason)).toBe(true);
    for (const value of ['KeyCompromise', 'toString', '__proto__', '', 7, null, undefined, {}]) expect(isRevocationReason(value)).toBe(false);
    expect(() => revocationReasonCode('toString' as never)).toThrow(RangeError);
  });
});

describe('generalizedTime', () => {
  const text = (date: Date) => {
    const der = generalizedTime(date);
    expect(der.subarray(0, 2)).toEqual(Buffer.from([0x18, 15]));
    return der.subarray(2).toString('latin1');
  };

  it('writes YYYYMMDDHHMMSSZ in UTC at every year, dropping milliseconds (never UTCTime)', () => {
    expect(text(new Date('2026-03-04T05:06:07.890Z'))).toBe('20260304050607Z');
    expect(text(new Date('2049-12-31T23:59:59.999Z'))).toBe('20491231235959Z');
    expect(text(new Date('2050-01-01T00:00:00Z'))).toBe('20500101000000Z');
    expect(text(new Date('1999-07-01T12:00:00Z'))).toBe('19990701120000Z');
    expect(text(new Date('0001-01-01T00:00:00Z'))).toBe('00010101000000Z');
    expect(text(new Date('9999-12-31T23:59:59Z'))).toBe('99991231235959Z');
  });

  it('refuses dates it cannot write', () => {
    expect(() => generalizedTime(new Date(NaN))).toThrow(/not a valid date/);
    expect(() => generalizedTime(new Date('+010000-01-01T00:00:00Z'))).toThrow(/year 10000/);
    expect(() => generalizedTime('2026-01-01' as never)).toThrow(RangeError);
  });
});
