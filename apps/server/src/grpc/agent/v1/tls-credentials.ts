import { experimental, ServerCredentials } from '@grpc/grpc-js';

type CaListener = (u: { caCertificate: Buffer } | null) => void;
type IdentityListener = (u: { certificate: Buffer; privateKey: Buffer } | null) => void;

/** Serves the server's TLS identity and the fleet CA to grpc-js; `update` swaps them live. */
class FleetCertificateProvider {
  private caListeners = new Set<CaListener>();
  private identityListeners = new Set<IdentityListener>();

  constructor(private ca: Buffer, private identity: { certificate: Buffer; privateKey: Buffer }) {}

  update(ca: Buffer, identity: { certificate: Buffer; privateKey: Buffer }): void {
    this.ca = ca;
    this.identity = identity;
    this.caListeners.forEach((l) => l({ caCertificate: ca }));
    this.identityListeners.forEach((l) => l(identity));
  }

  // Listeners hear the current value on the next tick: grpc-js registers its own watcher only after
  // adding our listeners, so a synchronous first update would be lost and the port would drop every
  // connection as "unloaded credentials".
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    queueMicrotask(() => this.caListeners.has(l) && l({ caCertificate: this.ca }));
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.add(l);
    queueMicrotask(() => this.identityListeners.has(l) && l(this.identity));
  }
  removeIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.delete(l);
  }
}

/**
 * TLS for the agent port. Client certificates are requested and verified against the fleet CA but
 * not required at the handshake, because Enroll must be reachable without one; every other call
 * checks for a verified client certificate itself (grpc-js exposes one only when it verified).
 */
export function agentPortCredentials(caPem: string, certificatePem: string, privateKeyPem: string): ServerCredentials {
  const provider = new FleetCertificateProvider(Buffer.from(caPem), {
    certificate: Buffer.from(certificatePem),
    privateKey: Buffer.from(privateKeyPem),
  });
  // One provider serves both roles, so the argument order of this experimental API cannot matter.
  return experimental.createCertificateProviderServerCredentials(provider, provider, false);
}
