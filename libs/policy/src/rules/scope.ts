// A rule's scope compiled once into a predicate over certificate facts.
import { dnsNameMatches } from '../dns-names';
import type { CertificateFacts, RuleScope } from './types';

export type ScopeTest = (facts: CertificateFacts) => boolean;

export const EVERYTHING: ScopeTest = () => true;

export function compileScope(scope: RuleScope | undefined): ScopeTest {
  if (!scope) return EVERYTHING;
  const tests: ScopeTest[] = [];
  if (scope.certificates === 'leaf') tests.push((f) => !f.isCa);
  if (scope.certificates === 'ca') tests.push((f) => f.isCa);
  if (scope.dnsNames?.length) {
    const patterns = scope.dnsNames;
    tests.push((f) => f.dnsNames.some((name) => patterns.some((p) => dnsNameMatches(p, name))));
  }
  if (scope.issuers?.length) {
    const parts = scope.issuers.map((s) => s.toLowerCase());
    tests.push((f) => parts.some((p) => f.issuer.toLowerCase().includes(p)));
  }
  if (scope.hosts?.length) {
    const hosts = new Set(scope.hosts);
    tests.push((f) => f.host !== undefined && hosts.has(f.host));
  }
  if (scope.paths?.length) {
    const prefixes = scope.paths;
    tests.push((f) => f.path !== undefined && prefixes.some((p) => f.path!.startsWith(p)));
  }
  if (tests.length === 0) return EVERYTHING;
  return (f) => tests.every((t) => t(f));
}
