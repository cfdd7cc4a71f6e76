// Compiles a FleetPolicy once into checks over precomputed facts. A check returns a message or
// undefined; evaluation collects findings and never throws (a fact it cannot judge is skipped).
import { isWildcardName } from '../dns-names';
import { compileScope, type ScopeTest } from './scope';
import { signatureHashOf } from './signature-hash';
import { TLS_VERSIONS, type CertificateFacts, type EndpointFacts, type FleetPolicy, type PolicyFinding, type PolicyRule, type RuleSpec, type ValidityStep } from './types';

const DAY_MS = 86_400_000;
const NO_CONTEXT: EvaluationContext = {};

/**
 * Key reuse across an inventory: how many distinct certificates carry each key (SPKI SHA-256), and
 * which certificates were counted. Plain counts, not a set per key: 200,000 sets cost more than
 * the whole evaluation.
 */
export interface KeyUse {
  readonly certificatesPerKey: ReadonlyMap<string, number>;
  readonly counted: ReadonlySet<string>;
}

export interface EvaluationContext {
  keyUse?: KeyUse;
}

type CertificateCheck = (facts: CertificateFacts, context: EvaluationContext) => string | undefined;
type EndpointCheck = (facts: EndpointFacts) => string | undefined;

interface CompiledRule {
  rule: PolicyRule;
  inScope: ScopeTest;
  certificate?: CertificateCheck;
  endpoint?: EndpointCheck;
}

export interface CompiledPolicy {
  policy: FleetPolicy;
  evaluateCertificate(facts: CertificateFacts, context?: EvaluationContext): PolicyFinding[];
  evaluateEndpoint(facts: EndpointFacts): PolicyFinding[];
}

export function compilePolicy(policy: FleetPolicy): CompiledPolicy {
  const rules: CompiledRule[] = policy.rules.map((rule) => ({ rule, inScope: compileScope(rule.scope), ...compileCheck(rule) }));
  const certificateRules = rules.filter((r) => r.certificate);
  const endpointRules = rules.filter((r) => r.endpoint);
  return {
    policy,
    evaluateCertificate(facts, context = NO_CONTEXT) {
      let found: PolicyFinding[] | undefined; // most certificates have no finding: no array for them
      for (const r of certificateRules) {
        let message: string | undefined;
        try {
          if (!r.inScope(facts)) continue;
          message = r.certificate!(facts, context);
        } catch {
          continue; // a fact this rule cannot judge: no finding, never an exception
        }
        if (message !== undefined) (found ??= []).push(finding(r.rule, message));
      }
      return found ?? [];
    },
    evaluateEndpoint(facts) {
      const found: PolicyFinding[] = [];
      for (const r of endpointRules) {
        if (r.rule.scope?.hosts?.length && (facts.host === undefined || !r.rule.scope.hosts.includes(facts.host))) continue;
        const message = safely(() => r.endpoint!(facts));
        if (message !== undefined) found.push(finding(r.rule, message));
      }
      return found;
    },
  };
}

/** Key use over a whole inventory (a certificate seen on several hosts counts once). */
export function keyUseOf(certificates: Iterable<Pick<CertificateFacts, 'publicKeySha256' | 'fingerprintSha256'>>): KeyUse {
  const certificatesPerKey = new Map<string, number>();
  const counted = new Set<string>();
  for (const c of certificates) {
    if (!c.publicKeySha256 || counted.has(c.fingerprintSha256)) continue;
    counted.add(c.fingerprintSha256);
    certificatesPerKey.set(c.publicKeySha256, (certificatesPerKey.get(c.publicKeySha256) ?? 0) + 1);
  }
  return { certificatesPerKey, counted };
}

function compileCheck(rule: RuleSpec): { certificate?: CertificateCheck; endpoint?: EndpointCheck } {
  switch (rule.type) {
    case 'min-rsa-bits': {
      const { bits } = rule;
      return { certificate: (f) => (isRsa(f.keyAlgorithm) && f.keySize < bits ? `RSA key of ${f.keySize} bits is below the minimum of ${bits} bits` : undefined) };
    }
    case 'allowed-curves': {
      const curves = new Set(rule.curves);
      const list = rule.curves.join(', ');
      return {
        certificate: (f) => {
          const curve = f.keyAlgorithm === 'EC' ? f.keyCurve || 'explicit parameters' : /^(Ed25519|Ed448|X25519|X448)$/.test(f.keyAlgorithm) ? f.keyAlgorithm : undefined;
          return curve !== undefined && !curves.has(curve) ? `curve ${curve} is not allowed (allowed: ${list})` : undefined;
        },
      };
    }
    case 'forbidden-signature-hashes': {
      const forbidden = new Set(rule.hashes.map(normalHash));
      return {
        certificate: (f) => {
          const hash = signatureHashOf(f.signatureAlgorithm);
          return hash && forbidden.has(hash) ? `signed with ${f.signatureAlgorithm} (${hash} is forbidden)` : undefined;
        },
      };
    }
    case 'max-validity': {
      const ceilingAt = validityCeiling(rule.days, rule.schedule);
      return {
        certificate: (f) => {
          if (!f.notBefore || !f.notAfter) return undefined;
          const days = (f.notAfter.getTime() - f.notBefore.getTime()) / DAY_MS;
          const ceiling = ceilingAt(f.notBefore.getTime());
          return days > ceiling ? `valid for ${formatDays(days)} days, more than the ${ceiling} allowed for certificates issued on ${f.notBefore.toISOString().slice(0, 10)}` : undefined;
        },
      };
    }
    case 'require-san':
      return { certificate: (f) => (f.dnsNames.length + f.ipAddresses.length === 0 ? 'no DNS name or IP address in the subject alternative names' : undefined) };
    case 'no-wildcards':
      return {
        certificate: (f) => {
          const wildcards = f.dnsNames.filter(isWildcardName);
          return wildcards.length ? `wildcard name${wildcards.length > 1 ? 's' : ''} ${wildcards.join(', ')}` : undefined;
        },
      };
    case 'key-reuse':
      return {
        certificate: (f, context) => {
          const use = context.keyUse;
          const holders = f.publicKeySha256 && use ? use.certificatesPerKey.get(f.publicKeySha256) : undefined;
          if (!holders) return undefined;
          const others = holders - (use!.counted.has(f.fingerprintSha256) ? 1 : 0);
          return others > 0 ? `the same key is in ${others} other certificate${others > 1 ? 's' : ''}` : undefined;
        },
      };
    case 'self-signed': {
      const allowed = rule.allowed ? compileScope(rule.allowed) : undefined;
      return { certificate: (f) => (f.selfSigned && !(allowed?.(f) ?? false) ? 'self-signed outside the allowed scope' : undefined) };
    }
    case 'min-tls-version': {
      const floor = TLS_VERSIONS.indexOf(rule.version);
      return {
        endpoint: (e) => {
          const weak = e.acceptedVersions.filter((v) => TLS_VERSIONS.indexOf(v) < floor);
          return weak.length ? `${e.address} accepts ${weak.join(', ')} (minimum ${rule.version})` : undefined;
        },
      };
    }
    default:
      return {};
  }
}

/** The ceiling in days for a notBefore instant: a fixed number, or the schedule step in force then. */
function validityCeiling(days: number | undefined, schedule: ValidityStep[] | undefined): (notBeforeMs: number) => number {
  const steps = (schedule ?? []).map((s) => ({ from: Date.parse(`${s.from}T00:00:00Z`), days: s.days })).sort((a, b) => a.from - b.from);
  const fallback = days ?? Infinity;
  return (at) => {
    let ceiling = fallback;
    for (const step of steps) if (at >= step.from) ceiling = Math.min(step.days, days ?? Infinity);
    return ceiling;
  };
}

function finding(rule: PolicyRule, message: string): PolicyFinding {
  return { ruleId: rule.id, rule: rule.type, severity: rule.severity, blockIssuance: rule.blockIssuance === true, message };
}

function safely(check: () => string | undefined): string | undefined {
  try {
    return check();
  } catch {
    return undefined;
  }
}

const isRsa = (algorithm: string) => algorithm === 'RSA' || algorithm === 'RSASSA-PSS';
const normalHash = (h: string) => h.toUpperCase().replace(/^SHA(\d)/, 'SHA-$1');
const formatDays = (d: number) => (Number.isInteger(d) ? String(d) : d.toFixed(1));
