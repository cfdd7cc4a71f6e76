import { backoffDelayMs } from './backoff';

describe('backoffDelayMs', () => {
  it.each([
    ['first retry', 0, 500, 1000],
    ['third retry', 2, 2000, 4000],
    ['capped at one minute', 10, 30_000, 60_000],
    ['huge attempt counts stay capped', 10_000, 30_000, 60_000],
  ])('%s', (_name, attempt, min, max) => {
    expect(backoffDelayMs(attempt as number, 1000, 60_000, () => 0)).toBe(min);
    expect(backoffDelayMs(attempt as number, 1000, 60_000, () => 1)).toBe(max);
  });
});
