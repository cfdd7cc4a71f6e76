// DNS-01 answered by the server: the TXT record _acme-challenge.<name> through a DNS provider.
import { createHash } from 'node:crypto';
import type { AcmeChallengeSpec } from '../acme-challenge-spec';
import type { ChallengeAnswerer } from '../acme-order';
import { runDnsHook } from './hook-provider';
import { updateTxt, waitForTxt, type Rfc2136Settings } from './rfc2136';

/** A DNS provider: puts the TXT record in place (visible on the authoritative server) and takes it away. */
export interface DnsProvider {
  present(recordName: string, domain: string, txtValue: string, challenge: { token: string; keyAuthorization: string }): Promise<void>;
  cleanup(recordName: string, domain: string, txtValue: string, challenge: { token: string; keyAuthorization: string }): Promise<void>;
}

/** RFC 8555 section 8.4: base64url(SHA-256(key authorization)). */
export function dns01TxtValue(keyAuthorization: string): string {
  return createHash('sha256').update(keyAuthorization).digest('base64url');
}

export class Rfc2136Provider implements DnsProvider {
  constructor(private readonly settings: Rfc2136Settings, private readonly propagationTimeoutMs = 30_000) {}

  async present(recordName: string, _domain: string, txtValue: string): Promise<void> {
    await updateTxt(this.settings, recordName, txtValue, 'add');
    await waitForTxt(this.settings.server, recordName, txtValue, true, this.propagationTimeoutMs);
  }

  async cleanup(recordName: string, _domain: string, txtValue: string): Promise<void> {
    await updateTxt(this.settings, recordName, txtValue, 'delete');
  }
}

export class HookProvider implements DnsProvider {
  constructor(private readonly command: string) {}

  present(_recordName: string, domain: string, txtValue: string, c: { token: string; keyAuthorization: string }): Promise<void> {
    return runDnsHook(this.command, 'present', { domain, txtValue, ...c });
  }

  cleanup(_recordName: string, domain: string, txtValue: string, c: { token: string; keyAuthorization: string }): Promise<void> {
    return runDnsHook(this.command, 'cleanup', { domain, txtValue, ...c });
  }
}

export function dnsProvider(spec: Extract<AcmeChallengeSpec, { type: 'dns-01' }>, open: (sealed: string) => string): DnsProvider {
  if (spec.provider === 'hook') return new HookProvider(spec.command);
  return new Rfc2136Provider({ server: spec.server, zone: spec.zone, tsigKeyName: spec.tsigKeyName, tsigAlgorithm: spec.tsigAlgorithm, tsigSecret: open(spec.encryptedTsigSecret) });
}

export function dnsAnswerer(spec: Extract<AcmeChallengeSpec, { type: 'dns-01' }>, open: (sealed: string) => string): ChallengeAnswerer {
  const provider = dnsProvider(spec, open);
  // A wildcard's challenge is answered at the base name (RFC 8555 section 8.4).
  const recordName = (identifier: string) => `_acme-challenge.${identifier.replace(/^\*\./, '')}`;
  return {
    type: 'dns-01',
    present: (identifier, token, keyAuthorization) => provider.present(recordName(identifier), identifier, dns01TxtValue(keyAuthorization), { token, keyAuthorization }),
    cleanup: (identifier, token, keyAuthorization) => provider.cleanup(recordName(identifier), identifier, dns01TxtValue(keyAuthorization), { token, keyAuthorization }),
  };
}
