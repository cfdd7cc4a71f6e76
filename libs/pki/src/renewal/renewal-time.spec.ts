import { JITTER_FRACTION, jitterFraction, renewalTime } from './renewal-time';

const DAY = 86_400_000;
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * DAY);
const noJitter = (() => {
  // A key whose jitter is tiny, found by search, so exact expectations can be written.
  for (let i = 0; ; i++) if (jitterFraction(`k${i}`) < 1e-4) return `k${i}`;
})();

describe('renewalTime', () => {
  it.each([
    ['90-day certificate renews at 2/3 (day 60)', 90, undefined, 7, 60],
    ['398-day certificate renews at 2/3 (day ~265)', 398, undefined, 7, 398 * (2 / 3)],
    ['renewBefore of 30 days on a 90-day certificate (day 60)', 90, 30, 7, 60],
    ['renewBefore shorter than the critical window is pulled before it', 90, 2, 7, 83],
    ['10-day certificate: 2/3 is inside the critical window, so renew at day 3', 10, undefined, 7, 3],
    ['5-day certificate is shorter than the critical window: renew at half-life', 5, undefined, 7, 2.5],
  ])('%s', (_name, lifetimeDays, renewBeforeDays, criticalDays, expectedDay) => {
    const due = renewalTime({
      notBefore: t0,
      notAfter: at(lifetimeDays as number),
      renewBeforeMs: renewBeforeDays === undefined ? undefined : (renewBeforeDays as number) * DAY,
      criticalMs: (criticalDays as number) * DAY,
      jitterKey: noJitter,
    });
    expect(Math.abs(due.getTime() - at(expectedDay as number).getTime())).toBeLessThan(0.001 * (lifetimeDays as number) * DAY);
  });

  it('is due at once for a certificate with no valid lifetime', () => {
    expect(renewalTime({ notBefore: t0, notAfter: t0, criticalMs: 7 * DAY, jitterKey: 'x' })).toEqual(t0);
  });

  it('spreads 10,000 certificates issued together over 1/20 of the lifetime, never later than planned', () => {
    const times = Array.from({ length: 10_000 }, (_, i) =>
      renewalTime({ notBefore: t0, notAfter: at(90), criticalMs: 7 * DAY, jitterKey: `cert-${i}` }).getTime(),
    );
    const planned = at(60).getTime();
    expect(Math.max(...times)).toBeLessThanOrEqual(planned);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(planned - 90 * DAY * JITTER_FRACTION);
    // No second holds more than a handful: the window is 4.5 days = 388,800 s for 10,000 renewals.
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(3);
    // And the spread is even: each tenth of the window gets roughly a tenth of the renewals.
    const buckets = new Array(10).fill(0);
    for (const t of times) buckets[Math.min(9, Math.floor(((planned - t) / (90 * DAY * JITTER_FRACTION)) * 10))]++;
    for (const b of buckets) expect(b).toBeGreaterThan(800);
  });

  it('gives the same time for the same certificate on every call (every replica agrees)', () => {
    const input = { notBefore: t0, notAfter: at(90), criticalMs: 7 * DAY, jitterKey: 'stable-id' };
    expect(renewalTime(input)).toEqual(renewalTime({ ...input }));
  });
});
