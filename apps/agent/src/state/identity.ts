import { X509Certificate } from 'node:crypto';
import { StateDir } from './state-dir';

/** Who this agent is to the server: written at enrollment, read on every start. */
export interface AgentIdentity {
  agentId: string;
  /** host:port of the control server's agent endpoint. */
  server: string;
  privateKeyPem: string;
  certificatePem: string;
  caCertificatesPem: string;
}

const FILES = { key: 'agent-key.pem', cert: 'agent-cert.pem', ca: 'fleet-ca.pem', meta: 'identity.json' } as const;

export class NotEnrolledError extends Error {}

export function saveIdentity(state: StateDir, id: AgentIdentity): void {
  state.write(FILES.key, id.privateKeyPem, 0o600);
  state.write(FILES.cert, id.certificatePem, 0o600);
  state.write(FILES.ca, id.caCertificatesPem, 0o600);
  // Written last: its presence means the identity is complete.
  state.write(FILES.meta, JSON.stringify({ agentId: id.agentId, server: id.server, enrolledAt: new Date().toISOString() }, null, 2) + '\n');
}

export function loadIdentity(state: StateDir): AgentIdentity {
  const meta = state.readText(FILES.meta);
  if (!meta) throw new NotEnrolledError(`this host is not enrolled (no ${state.path(FILES.meta)}): run \`certfleet-agent enroll\` first`);
  const { agentId, server } = JSON.parse(meta) as { agentId: string; server: string };
  const privateKeyPem = state.readText(FILES.key);
  const certificatePem = state.readText(FILES.cert);
  const caCertificatesPem = state.readText(FILES.ca);
  if (!privateKeyPem || !certificatePem || !caCertificatesPem) {
    throw new NotEnrolledError(`the identity in ${state.root} is incomplete: enroll again with a new token`);
  }
  return { agentId, server, privateKeyPem, certificatePem, caCertificatesPem };
}

export function certificateExpiry(certificatePem: string): Date {
  return new Date(new X509Certificate(certificatePem).validTo);
}
