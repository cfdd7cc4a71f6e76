import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { ocspErrorResponse } from '@certfleet/pki';
import { isUuid } from '../../common/ids';
import type { IssuingCasService } from '../issuing-cas/issuing-cas.service';
import type { CrlPublisher } from './crl-publisher.service';
import type { OcspResponder } from './ocsp-responder.service';

/** Larger than any sensible request (100 CertIDs is ~8 KiB); beyond it: malformedRequest. */
export const MAX_OCSP_REQUEST_BYTES = 64 * 1024;

type Next = (err?: unknown) => void;

/**
 * The CA's public endpoints, without a token, as plain middleware in front of the REST routes
 * (OCSP is the hottest path the server has: no guards, pipes or JSON here):
 *   GET  /pki/ca/<ca>.crt            the CA certificate (DER), for AIA caIssuers
 *   GET  /pki/crl/<ca>.crl           the current CRL (DER)
 *   POST /pki/ocsp[/<ca>]            RFC 6960 A.1, application/ocsp-request
 *   GET  /pki/ocsp[/<ca>]/<base64>   the same, base64 (URL-encoded) in the path
 */
export function pkiHttpHandler(deps: { ocsp: OcspResponder; crls: CrlPublisher; cas: IssuingCasService }) {
  const logger = new Logger('PkiHttp');
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const url = req.url ?? '';
    if (!url.startsWith('/pki/')) return next();
    const path = url.split('?')[0];
    handle(req, res, path).catch((err) => {
      logger.error(`${req.method} ${path}: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, 'text/plain', Buffer.from('internal error\n'));
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const [, , kind, ...rest] = path.split('/');
    if (kind === 'ocsp') return ocsp(req, res, rest);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', Buffer.from('method not allowed\n'), { Allow: 'GET, HEAD' });
    const file = rest.join('/');
    if (kind === 'crl' && file.endsWith('.crl') && isUuid(file.slice(0, -4))) {
      let crl;
      try {
        crl = await deps.crls.current(file.slice(0, -4));
      } catch (err) {
        return send(res, (err as { status?: number }).status === 404 ? 404 : 503, 'text/plain', Buffer.from(`${(err as Error).message}\n`));
      }
      const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000));
      return send(res, 200, 'application/pkix-crl', crl.der, { 'Cache-Control': `public, max-age=${Math.min(maxAge, 300)}`, 'Last-Modified': crl.thisUpdate.toUTCString() }, req.method === 'HEAD');
    }
    if (kind === 'ca' && file.endsWith('.crt') && isUuid(file.slice(0, -4))) {
      const ca = await deps.cas.find(file.slice(0, -4)).catch(() => null);
      if (!ca?.certificatePem) return send(res, 404, 'text/plain', Buffer.from('no such CA certificate\n'));
      return send(res, 200, 'application/pkix-cert', Buffer.from(new X509Certificate(ca.certificatePem).raw), { 'Cache-Control': 'public, max-age=3600' }, req.method === 'HEAD');
    }
    return send(res, 404, 'text/plain', Buffer.from('not found\n'));
  }

  async function ocsp(req: IncomingMessage, res: ServerResponse, rest: string[]): Promise<void> {
    const answer = (der: Buffer, extra: Record<string, string> = {}) => send(res, 200, 'application/ocsp-response', der, extra);
    if (req.method === 'POST') {
      const body = await readBody(req, MAX_OCSP_REQUEST_BYTES);
      if (body === null) return answer(ocspErrorResponse('malformedRequest'), { Connection: 'close' });
      return answer(await deps.ocsp.respond(body));
    }
    if (req.method !== 'GET') return send(res, 405, 'text/plain', Buffer.from('method not allowed\n'), { Allow: 'GET, POST' });
    // The CA segment is optional (the CertID says which CA); the rest is the base64 request, which
    // may itself contain '/' when a client did not URL-encode it.
    const encoded = (rest.length > 0 && isUuid(rest[0]) ? rest.slice(1) : rest).join('/');
    let der: Buffer;
    try {
      der = Buffer.from(decodeURIComponent(encoded), 'base64');
    } catch {
      return answer(ocspErrorResponse('malformedRequest'));
    }
    if (der.length === 0 || der.length > MAX_OCSP_REQUEST_BYTES) return answer(ocspErrorResponse('malformedRequest'));
    return answer(await deps.ocsp.respond(der));
  }
}

function send(res: ServerResponse, status: number, type: string, body: Buffer, headers: Record<string, string> = {}, headOnly = false): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(body.length), ...headers });
  res.end(headOnly ? undefined : body);
}

/** The body, or null when it is larger than `limit` (then the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return resolve(null);
      }
      chunks.push(chunk);
    });
    req.on('end', () => !over && resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
