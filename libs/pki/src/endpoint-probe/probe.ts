// One TLS endpoint, probed the way a client meets it: connect (with SNI), record what the server
// serves and how the handshake went, and judge it, without refusing bad endpoints (they are what
// monitoring is for). Chain validity is OpenSSL's own verification against the trust store; the
// hostname is checked apart from it, so each problem is reported on its own.
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { readStapledOcsp, StapledOcsp } from './stapled-ocsp';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export interface ProbeTrust {
  /** Extra trust anchors (PEM or DER). */
  roots?: Array<string | Buffer>;
  /** Also trust Node's bundled roots (default true). */
  systemRoots?: boolean;
}

export interface ProbeOptions {
  host: string;
  port: number;
  /** SNI and the name the certificate must match; default: the host (no SNI when it is an IP). */
  serverName?: string;
  /** For the whole probe (connect + handshake); default 5000. */
  timeoutMs?: number;
  trust?: ProbeTrust;
  /** Also try each protocol version on its own and report which ones the server accepts. */
  testVersions?: boolean;
  now?: Date;
}

export interface ServedCertificate {
  fingerprintSha256: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  pem: string;
  der: Buffer;
}

export interface EndpointProbe {
  host: string;
  port: number;
  serverName: string | null;
  /** A TLS handshake completed. */
  tls: boolean;
  /** Why no handshake completed (refused, timeout, not TLS ...). */
  error: string | null;
  protocol: string | null;
  cipher: string | null;
  /** Leaf first, as the peer presented it (OpenSSL may append the trust anchor that completed it). */
  chain: ServedCertificate[];
  leafFingerprintSha256: string | null;
  hostnameMatch: boolean;
  hostnameError: string | null;
  chainValid: boolean;
  /** OpenSSL's verify error code, e.g. CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  chainError: string | null;
  ocsp: StapledOcsp | null;
  notAfter: Date | null;
  expired: boolean;
  /** Set when testVersions was asked. */
  acceptedVersions?: TlsVersion[];
  durationMs: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const MAX_CHAIN = 10;
// Old servers must still be reached to be reported: accept every version and cipher OpenSSL has.
const PERMISSIVE = { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' };

/** Probes one endpoint; never throws for network or TLS failures (they are in `error`). */
export async function probeEndpoint(options: ProbeOptions): Promise<EndpointProbe> {
  validate(options);
  const started = Date.now();
  const now = options.now ?? new Date();
  const serverName = options.serverName ?? (isIP(options.host) ? null : options.host);
  const trusted = trustAnchors(options.trust);
  const result: EndpointProbe = {
    host: options.host, port: options.port, serverName, tls: false, error: null, protocol: null, cipher: null, chain: [], leafFingerprintSha256: null,
    hostnameMatch: false, hostnameError: null, chainValid: false, chainError: null, ocsp: null, notAfter: null, expired: false, durationMs: 0,
  };
  try {
    const handshake = await connect(options, serverName, trusted.pem, {});
    Object.assign(result, await judge(handshake, serverName ?? options.host, trusted.der, now));
    result.tls = true;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  if (options.testVersions && result.tls) result.acceptedVersions = await acceptedVersions(options, serverName, trusted.pem);
  result.durationMs = Date.now() - started;
  return result;
}

interface Handshake {
  socket: tls.TLSSocket;
  stapled: Buffer | null;
}

function validate(options: ProbeOptions): void {
  if (!options.host || /[\s/]/.test(options.host)) throw new Error(`not a host name or address: "${options.host}"`);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new Error(`port must be 1-65535, got ${options.port}`);
  if (options.serverName !== undefined && !/^[A-Za-z0-9*._:-]{1,253}$/.test(options.serverName)) throw new Error(`not a server name: "${options.serverName}"`);
}

function trustAnchors(trust: ProbeTrust = {}): { pem: string[]; der: X509Certificate[] } {
  const given = (trust.roots ?? []).map((root) => new X509Certificate(root));
  const pem = [...(trust.systemRoots === false ? [] : tls.rootCertificates), ...given.map((c) => c.toString())];
  return { pem, der: given };
}

/** One handshake; resolves once it completed (the socket still open), rejects on any failure. */
function connect(options: ProbeOptions, serverName: string | null, ca: string[], versions: tls.ConnectionOptions): Promise<Handshake> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let stapled: Buffer | null = null;
    // requestOCSP is a documented tls.connect option that @types/node leaves out.
    const connectOptions: tls.ConnectionOptions & { requestOCSP: boolean } = {
      host: options.host,
      port: options.port,
      servername: serverName && !isIP(serverName) ? serverName : undefined,
      secureContext: secureContext(ca, versions),
      rejectUnauthorized: false,
      // The hostname is judged separately (below), so that a chain error does not hide it and vice versa.
      checkServerIdentity: () => undefined,
      requestOCSP: true,
    };
    const socket = tls.connect(connectOptions);
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(describeFailure(error)));
    };
    socket.on('error', fail);
    socket.once('OCSPResponse', (response: Buffer | null) => (stapled = response && response.length ? response : null));
    socket.once('end', () => fail(new Error('the server closed the connection during the handshake')));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('end');
      resolve({ socket, stapled });
    });
  });
}

// Loading ~150 system roots into a context costs more than a loopback handshake: reuse contexts.
const contexts = new Map<string, tls.SecureContext>();

function secureContext(ca: string[], versions: tls.ConnectionOptions): tls.SecureContext {
  const key = `${createHash('sha256').update(ca.join('')).digest('hex')}|${versions.minVersion ?? ''}|${versions.maxVersion ?? ''}`;
  let context = contexts.get(key);
  if (!context) {
    if (contexts.size >= 32) contexts.clear();
    context = tls.createSecureContext({ ca: ca.length ? ca : undefined, ...PERMISSIVE, ...versions });
    contexts.set(key, context);
  }
  return context;
}

function describeFailure(error: Error & { code?: string }): string {
  if (error.code === 'ECONNREFUSED') return 'connection refused';
  const openssl = /:SSL routines:[^:]*:([^:]+):/.exec(error.message);
  if (openssl && /wrong version number|packet length too long|unknown protocol|record layer failure/i.test(openssl[1])) return `not TLS (${openssl[1]})`;
  return openssl ? `TLS handshake failed (${openssl[1]})` : error.message;
}

async function judge(handshake: Handshake, name: string, givenRoots: X509Certificate[], now: Date): Promise<Partial<EndpointProbe>> {
  const { socket } = handshake;
  try {
    const peer = socket.getPeerCertificate(true);
    const chain = peerChain(peer);
    const leaf = chain[0];
    const identityError = leaf ? tls.checkServerIdentity(name, peer) : new Error('the server sent no certificate');
    const leafX509 = leaf ? new X509Certificate(leaf.der) : undefined;
    const issuer = leafX509 ? chain.slice(1).find((c) => leafX509.checkIssued(new X509Certificate(c.der)))?.der ?? givenRoots.find((root) => leafX509.checkIssued(root))?.raw : undefined;
    return {
      protocol: socket.getProtocol(),
      cipher: socket.getCipher()?.standardName ?? socket.getCipher()?.name ?? null,
      chain,
      leafFingerprintSha256: leaf?.fingerprintSha256 ?? null,
      hostnameMatch: !identityError,
      hostnameError: identityError?.message ?? null,
      chainValid: socket.authorized,
      chainError: socket.authorized ? null : String(socket.authorizationError ?? 'not verified'),
      ocsp: handshake.stapled && leaf ? await readStapledOcsp(handshake.stapled, leaf.der, issuer, now) : null,
      notAfter: leaf?.notAfter ?? null,
      expired: leaf ? leaf.notAfter.getTime() <= now.getTime() : false,
    };
  } finally {
    socket.destroy();
  }
}

function peerChain(peer: tls.DetailedPeerCertificate): ServedCertificate[] {
  const chain: ServedCertificate[] = [];
  const seen = new Set<string>();
  let detail: tls.DetailedPeerCertificate | undefined = peer?.raw ? peer : undefined;
  while (detail?.raw && chain.length < MAX_CHAIN) {
    const x509 = new X509Certificate(detail.raw);
    const fingerprintSha256 = createHash('sha256').update(detail.raw).digest('hex');
    if (seen.has(fingerprintSha256)) break;
    seen.add(fingerprintSha256);
    chain.push({
      fingerprintSha256,
      subject: x509.subject.replace(/\n/g, ', '),
      issuer: x509.issuer.replace(/\n/g, ', '),
      serial: x509.serialNumber.toLowerCase(),
      notBefore: new Date(x509.validFrom),
      notAfter: new Date(x509.validTo),
      pem: x509.toString(),
      der: Buffer.from(detail.raw),
    });
    detail = detail.issuerCertificate;
  }
  return chain;
}

/** Each version on its own (min = max), one handshake each, in turn. */
async function acceptedVersions(options: ProbeOptions, serverName: string | null, ca: string[]): Promise<TlsVersion[]> {
  const accepted: TlsVersion[] = [];
  for (const version of TLS_VERSIONS) {
    try {
      const { socket } = await connect(options, serverName, ca, { minVersion: version, maxVersion: version });
      socket.destroy();
      accepted.push(version);
    } catch {
      // Refused: not accepted.
    }
  }
  return accepted;
}
