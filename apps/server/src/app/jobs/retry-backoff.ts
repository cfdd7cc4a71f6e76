/** First retry after a minute, doubling, never more than an hour apart; jittered down by up to 20%. */
export const RETRY_BASE_MS = 60_000;
export const RETRY_CAP_MS = 3_600_000;

export function retryDelayMs(failures: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 20);
  const delay = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** exponent);
  return Math.round(delay * (1 - 0.2 * random()));
}
