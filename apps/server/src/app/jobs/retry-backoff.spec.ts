import { retryDelayMs, RETRY_CAP_MS } from './retry-backoff';

describe('retryDelayMs', () => {
  it('doubles from one minute and is capped at one hour', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n, noJitter) / 60_000)).toEqual([1, 2, 4, 8, 16, 32, 60, 60]);
    expect(retryDelayMs(1000, noJitter)).toBe(RETRY_CAP_MS);
  });

  it('jitters down by at most a fifth, never above the cap', () => {
    expect(retryDelayMs(3, () => 0.999)).toBeGreaterThan(4 * 60_000 * 0.8);
    expect(retryDelayMs(3, () => 0.999)).toBeLessThan(4 * 60_000);
    expect(retryDelayMs(50, () => 0.5)).toBeLessThanOrEqual(RETRY_CAP_MS);
  });
});
