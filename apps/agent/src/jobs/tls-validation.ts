// After a reload: does the server really serve the new certificate, with a chain that leads to the
// root? A real TLS handshake with the name clients use. Servers reload asynchronously (nginx starts
// new workers after `-s reload` returns), so the handshake is retried until a deadline.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { certificateMatchesName, chainProblem, describeCertificate } from './certificate-check';

export const DEFAULT_VALIDATION_TIMEOUT_MS = 10_000;
export const RETRY_INTERVAL_MS = 200;
const MAX_CHAIN = 10;

export interface ValidationTarget {
  host: string;
  port: number;
  /** SNI and the name the certificate must be valid for; undefined: no SNI, the host is checked. */
  serverName?: string;
  timeoutMs: number;
  retryIntervalMs?: number;
}

export type ValidationOutcome = { ok: true; attempts: number } | { ok: false; error: string; attempts: number };

/** Retries until the served leaf is `expected` with a valid chain to `root`, or the deadline passes. */
export async function validateServedCertificate(
  target: ValidationTarget,
  expected: X509Certificate,
  root: X509Certificate,
  now: () => Date = () => new Date(),
): Promise<ValidationOutcome> {
  const deadline = Date.now() + target.timeoutMs;
  const interval = target.retryIntervalMs ?? RETRY_INTERVAL_MS;
  let attempts = 0;
  let lastProblem = 'no handshake was attempted';
  for (;;) {
    attempts++;
    const remaining = deadline - Date.now();
    const problem = await checkOnce(target, expected, root, now(), Math.max(remaining, 500));
    if (problem === undefined) return { ok: true, attempts };
    lastProblem = problem;
    if (Date.now() + interval >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  const where = `${target.host}:${target.port}${target.serverName ? ` (SNI ${target.serverName})` : ''}`;
  return { ok: false, attempts, error: `${where} after ${attempts} handshake(s) in ${target.timeoutMs} ms: ${lastProblem}` };
}

/** One handshake; returns what is wrong, or undefined when all is right. */
async function checkOnce(target: ValidationTarget, expected: X509Certificate, root: X509Certificate, now: Date, timeoutMs: number): Promise<string | undefined> {
  let served: X509Certificate[];
  try {
    served = await servedChain(target, timeoutMs);
  } catch (error) {
    return `handshake failed: ${(error as Error).message}`;
  }
  const [leaf, ...intermediates] = served;
  if (!leaf) return 'the server sent no certificate';
  if (leaf.fingerprint256 !== expected.fingerprint256) {
    return `the server serves ${describeCertificate(leaf)} instead of the new ${describeCertificate(expected)}`;
  }
  const problem = chainProblem(leaf, intermediates, root, now);
  if (problem) return `the served chain does not lead to the root: ${problem}`;
  const name = target.serverName ?? target.host;
  if (!certificateMatchesName(leaf, name)) return `the served certificate is not valid for ${name}`;
  return undefined;
}

/** The certificates the server sent, leaf first, as sent (no verification here). */
function servedChain(target: ValidationTarget, timeoutMs: number): Promise<X509Certificate[]> {
  return new Promise((resolve, reject) => {
    const servername = target.serverName && isIP(target.serverName) === 0 ? target.serverName : undefined;
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      servername,
      // We verify the served chain ourselves against the job's root, not the system store.
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.on('error', fail); // 'on': a late error after we are done must not go unhandled
    socket.once('timeout', () => fail(new Error(`no handshake within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => {
      try {
        const chain = peerChain(socket);
        socket.end();
        socket.destroy();
        resolve(chain);
      } catch (error) {
        fail(error as Error);
      }
    });
  });
}

function peerChain(socket: tls.TLSSocket): X509Certificate[] {
  // getPeerCertificate(true) links each certificate to the next one the peer sent (a self-signed
  // one links to itself); it may also append an issuer found in the local store, which the chain
  // check treats like any other certificate. Only this call: on Node 20, once
  // getPeerX509Certificate() has been called on a socket, getPeerCertificate() returns {}.
  let detail: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  if (!detail?.raw) return [];
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  while (detail?.raw && chain.length < MAX_CHAIN) {
    const cert = new X509Certificate(detail.raw);
    if (seen.has(cert.fingerprint256)) break;
    seen.add(cert.fingerprint256);
    chain.push(cert);
    detail = detail.issuerCertificate;
  }
  return chain;
}
