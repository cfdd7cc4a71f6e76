// ACME Renewal Information (RFC 9773), client side: the CertID of a certificate, the CA's suggested
// window for it, and the renewal time picked inside that window.
import { randomInt } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as acme from 'acme-client';
import { parseRetryAfter } from './acme-http';

export interface AriWindow {
  start: Date;
  end: Date;
  /** When to ask again (the CA's Retry-After, bounded). */
  recheckAt: Date;
}

const MIN_RECHECK_MS = 60_000;
const MAX_RECHECK_MS = 24 * 3600_000;
const DEFAULT_RECHECK_MS = 6 * 3600_000;

/** base64url(AKI keyIdentifier) "." base64url(serial DER content octets); null without an AKI keyIdentifier. */
export function ariCertId(certificatePem: string): string | null {
  const cert = new x509.X509Certificate(certificatePem);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) return null;
  const serial = Buffer.from(cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber, 'hex');
  const der = serial[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial;
  return `${Buffer.from(aki.keyId, 'hex').toString('base64url')}.${der.toString('base64url')}`;
}

/**
 * A uniformly random time inside the window, never before now (a past window: renew now) and never
 * later than the ordinary schedule.
 */
export function renewalTimeInWindow(window: { start: Date; end: Date }, ordinary: Date, now = new Date(), random: (maxExclusive: number) => number = (n) => (n > 0 ? randomInt(Math.min(n, 2 ** 47)) : 0)): Date {
  const start = Math.max(window.start.getTime(), now.getTime());
  const end = Math.max(window.end.getTime(), start);
  const picked = start + random(end - start + 1);
  return new Date(Math.min(picked, ordinary.getTime()));
}

/** The directory's renewalInfo URL, or null when the CA offers none. */
export async function renewalInfoUrl(client: acme.Client): Promise<string | null> {
  const http = (client as unknown as { api: { http: { getDirectory(): Promise<Record<string, unknown>> } } }).api.http;
  const url = (await http.getDirectory()).renewalInfo;
  return typeof url === 'string' && url ? url : null;
}

/** GET <renewalInfo>/<certID> (unauthenticated, RFC 9773 section 4.2); null when the CA answers no usable window. */
export async function fetchAriWindow(baseUrl: string, certId: string, now = new Date()): Promise<AriWindow | null> {
  const res = await acme.axios.get(`${baseUrl.replace(/\/$/, '')}/${certId}`, { validateStatus: () => true, timeout: 30_000 });
  if (res.status !== 200) return null;
  const w = (res.data as { suggestedWindow?: { start?: unknown; end?: unknown } } | undefined)?.suggestedWindow;
  const start = typeof w?.start === 'string' ? new Date(w.start) : null;
  const end = typeof w?.end === 'string' ? new Date(w.end) : null;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) return null;
  const retry = parseRetryAfter(res.headers['retry-after'], now);
  const wait = retry ? retry.getTime() - now.getTime() : DEFAULT_RECHECK_MS;
  return { start, end, recheckAt: new Date(now.getTime() + Math.min(Math.max(wait, MIN_RECHECK_MS), MAX_RECHECK_MS)) };
}
