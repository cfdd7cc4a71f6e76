import { credentials, ChannelCredentials } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { connect, PeerCertificate } from 'node:tls';
import { isServerCertificate, normaliseFingerprint, sha256Fingerprint } from '@certfleet/pki';

export class ServerTrustError extends Error {}

export interface ServerAddress {
  host: string;
  port: number;
}

/** Parses HOST:PORT, [IPv6]:PORT or HOST (port 7443). */
export function parseServerAddress(value: string): ServerAddress {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:]+)(?::(\d+))?$/.exec(value);
  const port = Number(m?.[2] ?? 7443);
  if (!m || !m[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ServerTrustError(`--server must look like HOST:PORT, got "${value}"`);
  }
  return { host: m[1], port };
}

/** Dialling an IP: grpc-js would send it as TLS SNI, which RFC 6066 forbids (Node warns). */
export function targetNameOptions(target: string): Record<string, string> {
  const host = target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return /^[\d.]+$/.test(host) || host.includes(':') ? { 'grpc.ssl_target_name_override': 'certfleet-server' } : {};
}

export function grpcTarget(a: ServerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * The server is whoever holds a certificate issued by the pinned fleet CA that carries the server
 * role; hostnames are not checked, so agents can reach the server through any name or NAT.
 */
function checkServerRole(_host: string, cert: PeerCertificate): Error | undefined {
  if (!cert?.raw || !isServerCertificate(cert.raw)) {
    return new ServerTrustError('the peer presented a fleet certificate without the server role: refusing to talk to it');
  }
  return undefined;
}

/** TLS for gRPC: trust only the fleet CA; present the agent identity when given. */
export function channelCredentials(caPem: string, identity?: { privateKeyPem: string; certificatePem: string }): ChannelCredentials {
  return credentials.createSsl(
    Buffer.from(caPem),
    identity ? Buffer.from(identity.privateKeyPem) : null,
    identity ? Buffer.from(identity.certificatePem) : null,
    { checkServerIdentity: checkServerRole },
  );
}

/**
 * Before enrollment the agent knows only the fleet CA's fingerprint. It reads the chain the server
 * presents, keeps the CA whose SHA-256 matches the pin, and checks the server certificate against it.
 * Returns the fleet CA certificate (PEM).
 */
export async function fetchPinnedFleetCa(address: ServerAddress, fingerprint: string, timeoutMs = 10_000): Promise<string> {
  const pin = normaliseFingerprint(fingerprint);
  const chain = await new Promise<Buffer[]>((resolve, reject) => {
    const socket = connect({
      host: address.host,
      port: address.port,
      rejectUnauthorized: false, // verified below against the pin
      ALPNProtocols: ['h2'],
      servername: /^[\d.]+$|:/.test(address.host) ? undefined : address.host,
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS answer from ${grpcTarget(address)} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      const ders: Buffer[] = [];
      let c: PeerCertificate | undefined = socket.getPeerCertificate(true);
      while (c?.raw && !ders.some((d) => d.equals(c!.raw))) {
        ders.push(c.raw);
        c = (c as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
      }
      clearTimeout(timer);
      socket.end();
      resolve(ders);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new ServerTrustError(`cannot reach the certfleet server at ${grpcTarget(address)}: ${err.message}`));
    });
  });
  if (chain.length === 0) throw new ServerTrustError(`the server at ${grpcTarget(address)} presented no certificate`);
  const ca = chain.find((der) => sha256Fingerprint(der) === pin);
  if (!ca) {
    const seen = chain.map((d) => sha256Fingerprint(d)).join(', ');
    throw new ServerTrustError(
      `the server at ${grpcTarget(address)} did not present the fleet CA with fingerprint ${pin} (it presented ${seen}): ` +
        'refusing to enroll (wrong server, wrong fingerprint, or someone in between)',
    );
  }
  const caCert = new X509Certificate(ca);
  const leaf = new X509Certificate(chain[0]);
  if (!caCert.ca || !leaf.verify(caCert.publicKey) || !isServerCertificate(chain[0])) {
    throw new ServerTrustError(`the server certificate at ${grpcTarget(address)} is not a certfleet server certificate issued by the pinned fleet CA`);
  }
  return caCert.toString();
}
