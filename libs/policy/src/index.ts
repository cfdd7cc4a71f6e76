// @certfleet/policy: rules a certificate or CSR must meet; returns violations, never throws.
export {};
