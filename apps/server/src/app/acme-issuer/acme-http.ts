// acme-client talks through one shared axios instance. Two things it does not do per client are
// added here with request-scoped context (AsyncLocalStorage): trusting a private ACME server's CA
// for one issuer only, and keeping the CA's problem document (type, detail, Retry-After), which
// acme-client reduces to a bare message when it throws.
import { Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpsAgent } from 'node:https';
import * as acme from 'acme-client';
import type { AxiosResponse } from 'axios';

export interface AcmeProblem {
  /** e.g. urn:ietf:params:acme:error:rateLimited */
  type: string;
  detail: string;
  status: number;
  /** When the CA said to come back (Retry-After), if it did. */
  retryAfter: Date | null;
}

interface RequestScope {
  httpsAgent?: HttpsAgent;
  lastProblem?: AcmeProblem;
}

const scope = new AsyncLocalStorage<RequestScope>();
let installed = false;

/** Seconds or an HTTP date (RFC 9110) into a time; null when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = new Date()): Date | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return new Date(now.getTime() + Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : new Date(at);
}

function install(): void {
  if (installed) return;
  installed = true;
  // Rate limits and errors are retried by the job scheduler at the CA's Retry-After, not by
  // sleeping inside a request (acme-client would otherwise wait up to 5 times in-process).
  (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
  // acme-client retries a refused nonce (badNonce) itself; say so, the rest of its chatter is debug.
  const logger = new Logger('AcmeClient');
  acme.setLogger((message) => (/invalid nonce/i.test(message) ? logger.warn(message) : logger.debug(message)));
  acme.axios.interceptors.request.use((config) => {
    const agent = scope.getStore()?.httpsAgent;
    if (agent) config.httpsAgent = agent;
    return config;
  });
  const keep = (response: AxiosResponse) => {
    const store = scope.getStore();
    const data = response.data as { type?: unknown; detail?: unknown } | undefined;
    if (store && response.status >= 400 && data && typeof data.type === 'string' && data.type.startsWith('urn:ietf:params:acme:error:')) {
      store.lastProblem = { type: data.type, detail: typeof data.detail === 'string' ? data.detail : '', status: response.status, retryAfter: parseRetryAfter(response.headers['retry-after']) };
    }
    // A challenge or order that turned invalid comes with status 200 and its problem inside.
    const inner = (response.data as { status?: unknown; error?: { type?: unknown; detail?: unknown } } | undefined)?.error;
    if (store && response.status < 400 && inner && typeof inner.type === 'string' && (response.data as { status?: unknown }).status === 'invalid') {
      store.lastProblem = { type: inner.type, detail: typeof inner.detail === 'string' ? inner.detail : '', status: response.status, retryAfter: null };
    }
  };
  // acme-client's own requests resolve with any status; other paths reject with the response attached.
  acme.axios.interceptors.response.use(
    (response) => {
      keep(response);
      return response;
    },
    (error: { response?: AxiosResponse }) => {
      if (error?.response) keep(error.response);
      return Promise.reject(error);
    },
  );
}

/** Runs `fn` with this issuer's TLS trust for the directory, recording the CA's last problem document. */
export async function withAcmeScope<T>(trustPem: string | null, fn: (scope: { lastProblem(): AcmeProblem | undefined }) => Promise<T>): Promise<T> {
  install();
  const store: RequestScope = trustPem ? { httpsAgent: new HttpsAgent({ ca: trustPem, keepAlive: false }) } : {};
  try {
    return await scope.run(store, () => fn({ lastProblem: () => store.lastProblem }));
  } finally {
    store.httpsAgent?.destroy();
  }
}

/** An ACME order that failed, with the CA's problem when it sent one. */
export class AcmeOrderError extends Error {
  constructor(message: string, readonly problem?: AcmeProblem) {
    super(problem ? `${problem.type}: ${problem.detail || message}` : message);
  }
}
