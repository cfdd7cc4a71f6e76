// Minimal HTTP(S) client for OCSP and CRL downloads on Node's http/https modules: one deadline per
// URL (redirects included), a byte limit counted on the stream (nothing is buffered past it),
// at most 3 redirects to http/https only. https uses Node's default trust store and verification.
// No proxy and no connection reuse (agent: false): every request goes to the host the URL names
// and leaves no socket open behind it.
import * as http from 'node:http';
import * as https from 'node:https';

export interface FetchOptions {
  method: 'GET' | 'POST';
  body?: Buffer;
  contentType?: string;
  accept?: string;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects?: number;
}

export interface FetchResult {
  /** The URL that answered (after redirects). */
  url: string;
  contentType?: string;
  body: Buffer;
}

/** A failure worth one line in a result's detail: timeout, HTTP status, size, network error. */
export class FetchError extends Error {
  override name = 'FetchError';
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchBytes(url: string, options: FetchOptions): Promise<FetchResult> {
  const maxRedirects = options.maxRedirects ?? 3;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    let target = toHttpUrl(url);
    for (let redirects = 0; ; redirects++) {
      const answer = await requestOnce(target, options, controller.signal);
      if ('body' in answer) return { url: target.href, contentType: answer.contentType, body: answer.body };
      if (redirects >= maxRedirects) throw new FetchError(`more than ${maxRedirects} redirects`);
      // The method and body are kept on every redirect: an OCSP request turned into a GET
      // without its body would be meaningless.
      target = toHttpUrl(answer.location, target);
    }
  } catch (error) {
    if (controller.signal.aborted) throw new FetchError(`timed out after ${options.timeoutMs} ms`);
    throw error instanceof FetchError ? error : new FetchError(describeNetworkError(error));
  } finally {
    clearTimeout(timer);
  }
}

type Answer = { body: Buffer; contentType?: string } | { location: string };

function requestOnce(target: URL, options: FetchOptions, signal: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((settleResolve, settleReject) => {
    // Settles exactly once, whichever of response, error or deadline comes first.
    const onAbort = () => reject(new FetchError('aborted'));
    const resolve = (answer: Answer) => {
      signal.removeEventListener('abort', onAbort);
      settleResolve(answer);
    };
    const reject = (error: unknown) => {
      signal.removeEventListener('abort', onAbort);
      settleReject(error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string | number> = { 'user-agent': 'certfleet-revocation-check' };
    if (options.accept) headers.accept = options.accept;
    if (options.body) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      headers['content-length'] = options.body.length;
    }
    const transport = target.protocol === 'https:' ? https : http;
    const request = transport.request(target, { method: options.method, headers, signal, agent: false }, (response) => {
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        response.resume();
        const location = response.headers.location;
        if (!location) return reject(new FetchError(`HTTP ${status} redirect without a Location header`));
        return resolve({ location });
      }
      if (status !== 200) {
        response.resume();
        return reject(new FetchError(`HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`));
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        request.destroy();
        return reject(tooLarge(options.maxBytes, `Content-Length ${declared}`));
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > options.maxBytes) {
          request.destroy();
          reject(tooLarge(options.maxBytes, `more than ${options.maxBytes} bytes received`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve({ body: Buffer.concat(chunks, received), contentType: response.headers['content-type'] }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

function tooLarge(limit: number, seen: string): FetchError {
  return new FetchError(`response exceeds the ${limit}-byte limit (${seen})`);
}

function toHttpUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new FetchError(`not a valid URL: ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchError(`refusing ${url.protocol} URL ${url.href} (http/https only)`);
  return url;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
};

function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && NETWORK_ERRORS[code]) return `${NETWORK_ERRORS[code]} (${code})`;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
