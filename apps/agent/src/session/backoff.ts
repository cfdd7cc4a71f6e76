/** Exponential reconnect delay with full jitter: between half and all of min(cap, base * 2^attempt). */
export function backoffDelayMs(attempt: number, baseMs = 1000, capMs = 60_000, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
