import { X509Certificate } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { StateDir } from './state-dir';

/** Who this agent is to the server: written at enrollment, replaced on renewal, read on every start. */
export interface AgentIdentity {
  agentId: string;
  /** host:port of the control server's agent endpoint. */
  server: string;
  privateKeyPem: string;
  certificatePem: string;
  caCertificatesPem: string;
}

const META = 'identity.json';
const CA_FILE = 'fleet-ca.pem';

interface IdentityMeta {
  agentId: string;
  server: string;
  enrolledAt: string;
  /** Key and certificate of the current generation; identity.json switches between them atomically. */
  keyFile?: string;
  certFile?: string;
  renewedAt?: string;
}

export class NotEnrolledError extends Error {}

/**
 * Stores an identity. Key and certificate go to new files of their own generation and
 * identity.json, written last and atomically, points at them: a crash at any moment leaves either
 * the old pair or the new pair in force, never a key with another key's certificate.
 */
export function saveIdentity(state: StateDir, id: AgentIdentity): void {
  const previous = readMeta(state);
  const generation = previous ? `.${Date.now()}` : '';
  const keyFile = `agent-key${generation}.pem`;
  const certFile = `agent-cert${generation}.pem`;
  state.write(keyFile, id.privateKeyPem, 0o600);
  state.write(certFile, id.certificatePem, 0o600);
  state.write(CA_FILE, id.caCertificatesPem, 0o600);
  const meta: IdentityMeta = {
    agentId: id.agentId,
    server: id.server,
    enrolledAt: previous?.agentId === id.agentId ? previous.enrolledAt : new Date().toISOString(),
    keyFile,
    certFile,
    ...(previous ? { renewedAt: new Date().toISOString() } : {}),
  };
  state.write(META, JSON.stringify(meta, null, 2) + '\n');
  // Older generations are no longer referenced.
  for (const f of readdirSync(state.root)) {
    if (/^agent-(key|cert)(\.\d+)?\.pem$/.test(f) && f !== keyFile && f !== certFile) unlinkSync(state.path(f));
  }
}

export function loadIdentity(state: StateDir): AgentIdentity {
  const meta = readMeta(state);
  if (!meta) throw new NotEnrolledError(`this host is not enrolled (no ${state.path(META)}): run \`certfleet-agent enroll\` first`);
  const privateKeyPem = state.readText(meta.keyFile ?? 'agent-key.pem');
  const certificatePem = state.readText(meta.certFile ?? 'agent-cert.pem');
  const caCertificatesPem = state.readText(CA_FILE);
  if (!privateKeyPem || !certificatePem || !caCertificatesPem) {
    throw new NotEnrolledError(`the identity in ${state.root} is incomplete: enroll again with a new token`);
  }
  return { agentId: meta.agentId, server: meta.server, privateKeyPem, certificatePem, caCertificatesPem };
}

function readMeta(state: StateDir): IdentityMeta | undefined {
  const text = state.readText(META);
  return text ? (JSON.parse(text) as IdentityMeta) : undefined;
}

export function certificateValidity(certificatePem: string): { notBefore: Date; notAfter: Date } {
  const cert = new X509Certificate(certificatePem);
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

export function certificateExpiry(certificatePem: string): Date {
  return certificateValidity(certificatePem).notAfter;
}
