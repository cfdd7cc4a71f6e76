// How a managed certificate's ACME challenges are answered: HTTP-01 by its agent (webroot file or a
// short-lived listener) or DNS-01 by the server (RFC 2136 update or a hook script).
import { isAbsolute, normalize } from 'node:path';

export type AcmeChallengeSpec =
  | { type: 'http-01'; mode: 'webroot'; webroot: string }
  | { type: 'http-01'; mode: 'standalone'; port: number }
  | { type: 'dns-01'; provider: 'rfc2136'; server: string; zone: string; tsigKeyName: string; tsigAlgorithm: TsigAlgorithm; encryptedTsigSecret: string }
  | { type: 'dns-01'; provider: 'hook'; command: string };

export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

export class AcmeChallengeInputError extends Error {}

type Json = Record<string, unknown>;
const text = (o: Json, key: string): string => {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') throw new AcmeChallengeInputError(`challenge.${key} is required`);
  return v.trim();
};

/**
 * Untrusted REST input into a challenge spec; `seal` encrypts the TSIG secret before it is stored.
 * A hook command must be one the server's operator allowed (CERTFLEET_SERVER_COMMANDS): it runs on
 * the server.
 */
export function parseAcmeChallenge(raw: unknown, seal: (secret: string) => string, allowedHooks: readonly string[]): AcmeChallengeSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AcmeChallengeInputError('an ACME-issued certificate needs "challenge": {type: "http-01", webroot | standalone} or {type: "dns-01", provider: "rfc2136" | "hook"}');
  }
  const o = raw as Json;
  if (o.type === 'http-01') {
    if (o.webroot !== undefined && o.webroot !== '') {
      const webroot = text(o, 'webroot');
      if (!isAbsolute(webroot) || normalize(webroot) !== webroot || webroot.includes('\0')) throw new AcmeChallengeInputError(`challenge.webroot must be an absolute, normalised path: ${webroot}`);
      return { type: 'http-01', mode: 'webroot', webroot };
    }
    const port = o.port === undefined || o.port === '' ? 80 : Number(o.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AcmeChallengeInputError('challenge.port must be an integer from 1 to 65535');
    return { type: 'http-01', mode: 'standalone', port };
  }
  if (o.type === 'dns-01') {
    if (o.provider === 'rfc2136') {
      const server = text(o, 'server');
      if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(server)) throw new AcmeChallengeInputError(`challenge.server must be host or host:port, got "${server}"`);
      const tsigAlgorithm = (typeof o.tsigAlgorithm === 'string' && o.tsigAlgorithm ? o.tsigAlgorithm : 'hmac-sha256').toLowerCase() as TsigAlgorithm;
      if (!TSIG_ALGORITHMS.includes(tsigAlgorithm)) throw new AcmeChallengeInputError(`challenge.tsigAlgorithm must be one of ${TSIG_ALGORITHMS.join(', ')}`);
      const secret = text(o, 'tsigSecret');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) throw new AcmeChallengeInputError('challenge.tsigSecret must be base64 (as in a BIND key statement)');
      const zone = text(o, 'zone').replace(/\.$/, '');
      return { type: 'dns-01', provider: 'rfc2136', server, zone, tsigKeyName: text(o, 'tsigKeyName').replace(/\.$/, ''), tsigAlgorithm, encryptedTsigSecret: seal(secret) };
    }
    if (o.provider === 'hook') {
      const command = text(o, 'command');
      assertHookAllowed(command, allowedHooks);
      return { type: 'dns-01', provider: 'hook', command };
    }
    throw new AcmeChallengeInputError('challenge.provider must be "rfc2136" or "hook" for dns-01');
  }
  throw new AcmeChallengeInputError('challenge.type must be "http-01" or "dns-01"');
}

export function assertHookAllowed(command: string, allowedHooks: readonly string[]): void {
  if (!allowedHooks.includes(command)) {
    throw new AcmeChallengeInputError(
      `DNS hook "${command}" is not allowed: hooks run on the server, so the operator lists them in CERTFLEET_SERVER_COMMANDS (absolute paths, comma-separated)` +
        (allowedHooks.length ? `; allowed: ${allowedHooks.join(', ')}` : ''),
    );
  }
}

/** The spec as shown to people: no secrets. */
export function redactAcmeChallenge(spec: AcmeChallengeSpec): Record<string, unknown> {
  if (spec.type === 'dns-01' && spec.provider === 'rfc2136') {
    const { encryptedTsigSecret: _sealed, ...rest } = spec;
    return { ...rest, tsigSecret: '********' };
  }
  return { ...spec };
}
