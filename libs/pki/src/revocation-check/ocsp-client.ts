// One OCSP exchange: POST application/ocsp-request to the responder, then verify the answer.
import { fetchBytes } from './http-fetch';
import { buildOcspRequest } from './ocsp-request';
import { OcspAnswer, readOcspResponse } from './ocsp-response';
import type { CheckSubject } from './subject';

export interface OcspQueryOptions {
  timeoutMs: number;
  maxBytes: number;
  now: Date;
}

/** The responder's verified answer; throws FetchError or OcspError with a one-line reason. */
export async function queryOcsp(url: string, subject: CheckSubject, options: OcspQueryOptions): Promise<OcspAnswer> {
  const request = await buildOcspRequest(subject.certificate, subject.issuer);
  const reply = await fetchBytes(url, {
    method: 'POST',
    body: request.der,
    contentType: 'application/ocsp-request',
    accept: 'application/ocsp-response',
    timeoutMs: options.timeoutMs,
    maxBytes: options.maxBytes,
  });
  return readOcspResponse(reply.body, { subject, nonceValue: request.nonceValue, nonce: request.nonce, now: options.now }, reply.contentType);
}
