/**
 * A policy rule a certificate breaks. Policy rules are evaluated elsewhere (libs/policy); alerts
 * only consume what they found, through this source.
 */
export interface PolicyFinding {
  /** `fp:<sha256>` (or a bare SHA-256 fingerprint) or `managed:<id>`. */
  certificateKey: string;
  rule: string;
  severity: 'warning' | 'critical';
  message: string;
}

/** Where the evaluation pass gets the current policy findings: every finding that holds now. */
export interface PolicyFindingsSource {
  currentFindings(): Promise<PolicyFinding[]>;
}

export const POLICY_FINDINGS_SOURCE = Symbol('POLICY_FINDINGS_SOURCE');

/** A fixed list of findings (tools, benchmarks, and callers that computed them already). */
export class StaticPolicyFindings implements PolicyFindingsSource {
  constructor(public findings: PolicyFinding[] = []) {}
  async currentFindings(): Promise<PolicyFinding[]> {
    return this.findings;
  }
}
