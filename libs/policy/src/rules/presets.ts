// Built-in policies. "public-tls" follows the CA/Browser Forum schedule for publicly trusted TLS
// server certificates (ballot SC-081): the ceiling that applies is the one in force on the
// certificate's notBefore date.
import type { FleetPolicy, ValidityStep } from './types';

export const CAB_FORUM_TLS_SCHEDULE: readonly ValidityStep[] = Object.freeze([
  { from: '1970-01-01', days: 398 },
  { from: '2026-03-15', days: 200 },
  { from: '2027-03-15', days: 100 },
  { from: '2029-03-15', days: 47 },
]);

export const BASELINE_POLICY: Readonly<FleetPolicy> = Object.freeze({
  name: 'baseline',
  rules: [
    { id: 'no-weak-signatures', type: 'forbidden-signature-hashes', hashes: ['MD2', 'MD5', 'SHA-1'], severity: 'critical', blockIssuance: true },
    { id: 'rsa-2048', type: 'min-rsa-bits', bits: 2048, severity: 'critical', blockIssuance: true },
    { id: 'curves', type: 'allowed-curves', curves: ['P-256', 'P-384', 'P-521', 'Ed25519'], severity: 'warning', blockIssuance: true },
  ],
} satisfies FleetPolicy);

export const PUBLIC_TLS_POLICY: Readonly<FleetPolicy> = Object.freeze({
  name: 'public-tls',
  rules: [
    ...BASELINE_POLICY.rules,
    { id: 'cab-validity', type: 'max-validity', schedule: [...CAB_FORUM_TLS_SCHEDULE], severity: 'critical', blockIssuance: true, scope: { certificates: 'leaf' } },
    { id: 'san-required', type: 'require-san', severity: 'critical', blockIssuance: true, scope: { certificates: 'leaf' } },
    { id: 'key-reuse', type: 'key-reuse', severity: 'warning', scope: { certificates: 'leaf' } },
    { id: 'self-signed', type: 'self-signed', severity: 'warning', scope: { certificates: 'leaf' } },
    { id: 'tls-1.2', type: 'min-tls-version', version: 'TLSv1.2', severity: 'critical' },
  ],
} satisfies FleetPolicy);

export const POLICY_PRESETS: Readonly<Record<string, Readonly<FleetPolicy>>> = Object.freeze({
  baseline: BASELINE_POLICY,
  'public-tls': PUBLIC_TLS_POLICY,
});
