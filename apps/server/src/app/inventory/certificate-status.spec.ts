import { certificateStatus, notAfterRangeFor, CERTIFICATE_STATUSES } from './certificate-status';

const now = new Date('2026-06-01T00:00:00Z');
const t = { warningDays: 30, criticalDays: 7 };
const inDays = (d: number) => new Date(now.getTime() + d * 86_400_000);

describe('certificateStatus', () => {
  it.each([
    ['expired yesterday', -1, 'EXPIRED'],
    ['expires this instant', 0, 'EXPIRED'],
    ['one hour left', 1 / 24, 'CRITICAL'],
    ['exactly at the critical threshold', 7, 'CRITICAL'],
    ['just past the critical threshold', 7.01, 'WARNING'],
    ['exactly at the warning threshold', 30, 'WARNING'],
    ['just past the warning threshold', 30.01, 'OK'],
    ['a year left', 365, 'OK'],
  ])('%s', (_name, days, expected) => {
    expect(certificateStatus(inDays(days as number), now, t)).toBe(expected);
  });

  it('honours configured thresholds', () => {
    expect(certificateStatus(inDays(40), now, { warningDays: 60, criticalDays: 14 })).toBe('WARNING');
    expect(certificateStatus(inDays(10), now, { warningDays: 60, criticalDays: 14 })).toBe('CRITICAL');
  });
});

describe('notAfterRangeFor', () => {
  it('selects exactly the certificates whose status matches, for each status', () => {
    for (const days of [-10, -0.5, 0.5, 3, 7, 8, 29, 30, 31, 300]) {
      const notAfter = inDays(days);
      const status = certificateStatus(notAfter, now, t);
      for (const candidate of CERTIFICATE_STATUSES) {
        const { from, to } = notAfterRangeFor(candidate, now, t);
        const inRange = (!from || notAfter > from) && (!to || notAfter <= to);
        expect([days, candidate, inRange]).toEqual([days, candidate, candidate === status]);
      }
    }
  });
});
