// The server side of the three challenge types: HTTP-01 and DNS-01 (RFC 8555 section 8.3, 8.4)
// and TLS-ALPN-01 (RFC 8737). Each is bounded in time and size and answers a problem or nothing.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import * as dnsPacket from 'dns-packet';
import * as x509 from '@peculiar/x509';
import type { AcmeServerConfig } from '../../config/server-config';
import { problemOf, type ProblemDocument } from './acme-problem';
import type { AcmeChallengeType } from './acme-authorization.entity';
import type { AcmeIdentifier } from './acme-order.entity';

export const VALIDATION_TIMEOUT_MS = 10_000;
const MAX_HTTP_BODY = 4096;
const MAX_REDIRECTS = 10;
const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

export interface ChallengeToValidate {
  type: AcmeChallengeType;
  identifier: AcmeIdentifier;
  token: string;
  /** token "." account key thumbprint */
  keyAuthorization: string;
}

/** Runs one validation; resolves to null when it passed, else the problem to record. */
export class ChallengeValidators {
  constructor(private readonly config: AcmeServerConfig) {}

  async validate(c: ChallengeToValidate): Promise<ProblemDocument | null> {
    try {
      return await withTimeout(
        c.type === 'http-01' ? this.http01(c) : c.type === 'dns-01' ? this.dns01(c) : this.tlsAlpn01(c),
        VALIDATION_TIMEOUT_MS,
        `${c.type} validation of ${c.identifier.value} timed out after ${VALIDATION_TIMEOUT_MS / 1000} s`,
      );
    } catch (err) {
      const e = err as Error & { code?: string };
      return problemOf(c.type === 'dns-01' ? 'dns' : c.type === 'tls-alpn-01' ? 'tls' : 'connection', `${c.type} validation of ${c.identifier.value} failed: ${e.message}`);
    }
  }

  /** The address validations connect to: the configured host map, else the system resolver. */
  async addressOf(name: string): Promise<string> {
    if (isIP(name)) return name;
    const mapped = this.config.hosts[name.toLowerCase()];
    if (mapped) return mapped;
    return (await dns.lookup(name)).address;
  }

  private async http01(c: ChallengeToValidate): Promise<ProblemDocument | null> {
    const host = c.identifier.type === 'ip' && isIP(c.identifier.value) === 6 ? `[${c.identifier.value}]` : c.identifier.value;
    let url = new URL(`http://${host}:${this.config.http01Port}/.well-known/acme-challenge/${c.token}`);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const answer = await this.fetchSmall(url);
      if (answer.location === undefined) {
        if (answer.status !== 200) return problemOf('unauthorized', `http-01: ${url} answered HTTP ${answer.status}`);
        if (answer.body.trim() !== c.keyAuthorization) return problemOf('incorrectResponse', `http-01: ${url} answered ${JSON.stringify(answer.body.slice(0, 100))}, not the key authorization`);
        return null;
      }
      const next = new URL(answer.location, url);
      const port = next.port ? Number(next.port) : next.protocol === 'https:' ? 443 : 80;
      // RFC 8555 8.3: redirects only to http/https on 80 or 443 (here also the configured port).
      if ((next.protocol !== 'http:' && next.protocol !== 'https:') || ![80, 443, this.config.http01Port].includes(port)) {
        return problemOf('connection', `http-01: redirect to ${next.protocol}//…:${port} is not allowed`);
      }
      url = next;
    }
    return problemOf('connection', `http-01: more than ${MAX_REDIRECTS} redirects`);
  }

  private async fetchSmall(url: URL): Promise<{ status: number; body: string; location?: string }> {
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const address = await this.addressOf(hostname);
    return new Promise((resolve, reject) => {
      const options = { host: address, port: url.port || (url.protocol === 'https:' ? 443 : 80), path: url.pathname, method: 'GET', headers: { Host: url.host, 'User-Agent': 'certfleet-acme-validator' }, servername: isIP(hostname) ? undefined : hostname, rejectUnauthorized: false, timeout: VALIDATION_TIMEOUT_MS };
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_HTTP_BODY) {
            req.destroy(new Error(`the response is over ${MAX_HTTP_BODY} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const location = status >= 300 && status < 400 ? res.headers.location : undefined;
          resolve({ status, body: Buffer.concat(chunks).toString('utf8'), location });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  private async dns01(c: ChallengeToValidate): Promise<ProblemDocument | null> {
    const name = `_acme-challenge.${c.identifier.value.replace(/^\*\./, '')}`;
    const expected = createHash('sha256').update(c.keyAuthorization).digest('base64url');
    const records = this.config.dnsResolver ? await queryTxt(name, this.config.dnsResolver) : (await dns.resolveTxt(name)).map((parts) => parts.join(''));
    if (records.includes(expected)) return null;
    return problemOf('incorrectResponse', `dns-01: no TXT record ${name} with the expected value (found ${records.length} record(s))`);
  }

  private async tlsAlpn01(c: ChallengeToValidate): Promise<ProblemDocument | null> {
    const address = await this.addressOf(c.identifier.value);
    const servername = c.identifier.type === 'dns' ? c.identifier.value : undefined;
    const raw = await new Promise<{ der: Buffer; alpn: string | false | null }>((resolve, reject) => {
      const socket = tlsConnect({ host: address, port: this.config.tlsAlpn01Port, servername, ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false }, () => {
        const der = socket.getPeerCertificate()?.raw;
        const alpn = socket.alpnProtocol;
        socket.end();
        if (!der) reject(new Error('no certificate was presented'));
        else resolve({ der, alpn });
      });
      socket.setTimeout(VALIDATION_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
      socket.on('error', reject);
    });
    if (raw.alpn !== 'acme-tls/1') return problemOf('tls', 'tls-alpn-01: the server did not negotiate the acme-tls/1 protocol');
    const cert = new x509.X509Certificate(raw.der);
    const names = new X509Certificate(raw.der).subjectAltName?.split(', ') ?? [];
    const want = c.identifier.type === 'dns' ? `DNS:${c.identifier.value}` : `IP Address:${c.identifier.value}`;
    if (names.length !== 1 || names[0].toLowerCase() !== want.toLowerCase()) return problemOf('unauthorized', `tls-alpn-01: the certificate must name exactly ${c.identifier.value}, it names ${names.join(', ') || 'nothing'}`);
    const ext = cert.getExtension(ACME_IDENTIFIER_OID);
    if (!ext || !ext.critical) return problemOf('unauthorized', 'tls-alpn-01: the certificate has no critical acmeIdentifier extension');
    const expected = Buffer.concat([Buffer.from([0x04, 0x20]), createHash('sha256').update(c.keyAuthorization).digest()]);
    if (!Buffer.from(ext.value).equals(expected)) return problemOf('incorrectResponse', 'tls-alpn-01: the acmeIdentifier extension does not hold the key authorization digest');
    return null;
  }
}

/** One TXT query over UDP to the configured resolver (dns-packet), concatenating each record's strings. */
export async function queryTxt(name: string, resolver: { host: string; port: number }): Promise<string[]> {
  const id = randomBytes(2).readUInt16BE(0);
  const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'TXT', name }] });
  const socket = createSocket(isIP(resolver.host) === 6 ? 'udp6' : 'udp4');
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      socket.on('message', (msg) => {
        if (msg.length >= 2 && msg.readUInt16BE(0) === id) resolve(msg);
      });
      socket.on('error', reject);
      setTimeout(() => reject(new Error(`no answer from ${resolver.host}:${resolver.port}`)), VALIDATION_TIMEOUT_MS).unref();
      socket.send(query, resolver.port, resolver.host);
    });
    const packet = dnsPacket.decode(reply);
    return (packet.answers ?? []).flatMap((a) => (a.type === 'TXT' ? [(Array.isArray(a.data) ? a.data : [a.data]).map((d) => (Buffer.isBuffer(d) ? d.toString('utf8') : String(d))).join('')] : []));
  } finally {
    socket.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}
