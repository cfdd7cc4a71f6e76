// When certificates are due for renewal.
export { renewalTime, jitterFraction, JITTER_FRACTION } from './renewal-time';
export type { RenewalInput } from './renewal-time';
