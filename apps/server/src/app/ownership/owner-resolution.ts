import { globToRegExp } from './glob';

/** The owner and tags a certificate has, and where they came from. */
export interface EffectiveOwner {
  team: string | null;
  emails: string[];
  channels: string[];
  tags: string[];
  /** 'hand', 'rule:<name>', 'hand+rule:<name>' or 'none'. */
  source: string;
}

export interface OwnerFields {
  team: string | null;
  emails: string[];
  channels: string[];
  tags: string[];
}

export interface RuleInput extends OwnerFields {
  name: string;
  priority: number;
  pathGlob: string | null;
  sanPattern: string | null;
  agentLabels: Record<string, string> | null;
}

/** Where one copy of a certificate is: the file and the labels of the agent holding it. */
export interface CertificateLocation {
  path: string;
  agentLabels: Record<string, string>;
}

/** What rules look at: every location of the certificate and its names (DNS SANs and subject CN). */
export interface OwnershipSubject {
  names: string[];
  locations: CertificateLocation[];
}

export interface CompiledRule extends RuleInput {
  matches(subject: OwnershipSubject): boolean;
}

/** Rules in the order they are tried: ascending priority, then name. */
export function compileRules(rules: RuleInput[]): CompiledRule[] {
  return [...rules]
    .sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name))
    .map((rule) => {
      const path = rule.pathGlob ? globToRegExp(rule.pathGlob) : null;
      const san = rule.sanPattern ? globToRegExp(rule.sanPattern, { dns: true }) : null;
      const labels = Object.entries(rule.agentLabels ?? {});
      const locationMatches = (l: CertificateLocation) => (!path || path.test(l.path)) && labels.every(([k, v]) => l.agentLabels[k] === v);
      return {
        ...rule,
        matches: (s: OwnershipSubject) =>
          (!san || s.names.some((n) => san.test(n))) && (path === null && labels.length === 0 ? true : s.locations.some(locationMatches)),
      };
    });
}

/**
 * The owner of a certificate: field by field, what was assigned by hand wins over the first
 * matching rule (a hand assignment of only tags keeps the rule's team); tags are the union.
 */
export function resolveOwner(subject: OwnershipSubject, hand: OwnerFields | undefined, rules: CompiledRule[]): EffectiveOwner {
  const rule = rules.find((r) => r.matches(subject));
  if (!hand && !rule) return { team: null, emails: [], channels: [], tags: [], source: 'none' };
  const pick = <T>(h: T | undefined, r: T | undefined, empty: (v: T) => boolean): T | undefined => (h !== undefined && !empty(h) ? h : r);
  const isEmptyList = (v: string[]) => v.length === 0;
  const usedRule = rule && (!hand || !hand.team || hand.emails.length === 0 || hand.channels.length === 0 || rule.tags.length > 0);
  return {
    team: pick(hand?.team ?? undefined, rule?.team ?? undefined, (v) => !v) ?? null,
    emails: pick(hand?.emails, rule?.emails, isEmptyList) ?? [],
    channels: pick(hand?.channels, rule?.channels, isEmptyList) ?? [],
    tags: [...new Set([...(hand?.tags ?? []), ...(rule?.tags ?? [])])].sort(),
    source: [hand ? 'hand' : null, rule && usedRule ? `rule:${rule.name}` : null].filter(Boolean).join('+'),
  };
}
