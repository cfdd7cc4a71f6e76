// Fleet policy rules: data-first policies evaluated over certificate and endpoint facts.
export * from './types';
export { BASELINE_POLICY, CAB_FORUM_TLS_SCHEDULE, POLICY_PRESETS, PUBLIC_TLS_POLICY } from './presets';
export { compilePolicy, keyUseOf } from './evaluate';
export type { CompiledPolicy, EvaluationContext, KeyUse } from './evaluate';
export { parsePolicy } from './validate-policy';
export type { PolicyParse } from './validate-policy';
export { certificateFactsFromDer } from './facts';
export { issuanceBlockers, issuanceFacts } from './issuance';
export type { IssuanceInput } from './issuance';
export { signatureHashOf } from './signature-hash';
