/** Clock difference tolerated between us and responders/CAs when judging thisUpdate and nextUpdate. */
export const CLOCK_SKEW_MS = 5 * 60_000;
