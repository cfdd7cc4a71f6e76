// An agent's EndpointReport (proto) as the probe results the store keeps: the served chain is sent
// as DER and described here, so what is stored does not depend on what the agent says about it.
import { createHash, X509Certificate } from 'node:crypto';
import type { AgentMessage } from '@certfleet/proto';
import type { EndpointProbe, ServedCertificate, StapledOcsp, TlsVersion } from '@certfleet/pki';
import type { AgentListenerProbe } from './endpoints.service';

export type EndpointReportMessage = Extract<NonNullable<AgentMessage['payload']>, { $case: 'endpointReport' }>['value'];
type ListenerProbeMessage = EndpointReportMessage['listeners'][number];

const MAX_LISTENERS = 4096;
const OCSP_STATUSES = new Set(['good', 'revoked', 'unknown', 'invalid', 'unverified']);
const VERSIONS = new Set(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
const MAX_CHAIN = 10;

/** Throws with a one-line reason when the report is malformed (then nothing is stored). */
export function listenerProbes(report: EndpointReportMessage): AgentListenerProbe[] {
  if (report.listeners.length > MAX_LISTENERS) throw new Error(`too many listeners (${report.listeners.length}, at most ${MAX_LISTENERS})`);
  return report.listeners.map((l) => ({ probe: toEndpointProbe(l), process: l.process.slice(0, 255) || null }));
}

/** One probe as an agent reported it; throws with a one-line reason when it is malformed. */
export function toEndpointProbe(l: ListenerProbeMessage): EndpointProbe {
  if (!l.host || l.host.length > 253 || !Number.isInteger(l.port) || l.port < 1 || l.port > 65535) throw new Error(`bad listener address ${l.host}:${l.port}`);
  if (l.chain.length > MAX_CHAIN) throw new Error(`${l.host}:${l.port}: chain of ${l.chain.length} certificates`);
  if (l.ocspStatus && !OCSP_STATUSES.has(l.ocspStatus)) throw new Error(`${l.host}:${l.port}: unknown OCSP status "${l.ocspStatus.slice(0, 40)}"`);
  if (l.acceptedVersions.some((v) => !VERSIONS.has(v))) throw new Error(`${l.host}:${l.port}: unknown protocol version in acceptedVersions`);
  const chain = l.chain.map((der) => describe(Buffer.from(der), `${l.host}:${l.port}`));
  return {
    host: l.host, port: l.port, serverName: l.serverName || null, tls: l.tls, error: l.error || null, protocol: l.protocol.slice(0, 16) || null, cipher: l.cipher.slice(0, 128) || null, chain,
    leafFingerprintSha256: chain[0]?.fingerprintSha256 ?? null, hostnameMatch: l.hostnameMatch, hostnameError: l.hostnameError || null, chainValid: l.chainValid,
    chainError: l.chainError || null, ocsp: l.ocspStatus ? ({ status: l.ocspStatus, detail: 'reported by the agent' } as StapledOcsp) : null,
    notAfter: chain[0]?.notAfter ?? null, expired: chain[0] ? chain[0].notAfter.getTime() <= Date.now() : false,
    acceptedVersions: l.acceptedVersions.length ? (l.acceptedVersions as TlsVersion[]) : undefined, durationMs: 0,
  };
}

function describe(der: Buffer, where: string): ServedCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch {
    throw new Error(`${where}: a served certificate does not parse`);
  }
  return {
    fingerprintSha256: createHash('sha256').update(der).digest('hex'), subject: x509.subject.replace(/\n/g, ', '), issuer: x509.issuer.replace(/\n/g, ', '),
    serial: x509.serialNumber.toLowerCase(), notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo), pem: x509.toString(), der,
  };
}
