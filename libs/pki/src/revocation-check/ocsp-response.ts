// Reads and verifies an OCSP response for one request: responder status, signer (ocsp-signer.ts),
// nonce, the SingleResponse whose CertID is ours, freshness, then the certificate status.
// Structures are decoded by pkijs; RevokedInfo (left raw by pkijs) by the shared TLV reader.
import { children, decodeSmallInteger, decodeTime, readTlv, TAG } from '../discovery/asn1-reader';
import { ID_PKIX_OCSP_NONCE } from './ocsp-request';
import { CLOCK_SKEW_MS } from './clock';
import { OcspError, verifyResponder } from './ocsp-signer';
import { cryptoEngine, pkijs, Pkijs } from './pkijs-runtime';
import { reasonName } from './reasons';
import { serialKey } from './serial';
import type { CheckSubject } from './subject';

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
/** Oldest thisUpdate accepted from a response that has no nextUpdate and did not echo our nonce. */
export const MAX_AGE_WITHOUT_NEXT_UPDATE_MS = 24 * 3_600_000;
const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', 'status 4', 'sigRequired', 'unauthorized'];

export interface OcspAnswer {
  status: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  reason?: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** "the issuer" or "delegated responder ...". */
  signer: string;
}

export interface OcspExpectation {
  subject: CheckSubject;
  /** The nonce extension value we sent, and the raw nonce inside it. */
  nonceValue: Buffer;
  nonce: Buffer;
  now: Date;
}

/** The verified answer about `expect.subject`; throws OcspError with a one-line reason. */
export async function readOcspResponse(body: Buffer, expect: OcspExpectation, contentType?: string): Promise<OcspAnswer> {
  const basic = basicResponse(body, contentType);
  const signer = verifyResponder(basic, expect.subject.issuerX509, expect.now);
  const nonceEchoed = checkNonce(basic, expect);
  const single = await matchingResponse(basic, expect.subject);
  checkFreshness(single, expect.now, nonceEchoed);
  return { ...certificateStatus(single), thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate, signer };
}

function basicResponse(body: Buffer, contentType: string | undefined): Pkijs.BasicOCSPResponse {
  let response: Pkijs.OCSPResponse;
  try {
    response = pkijs.OCSPResponse.fromBER(body);
  } catch {
    throw new OcspError(`not an OCSP response (${body.length} bytes of ${contentType ?? 'unlabelled content'})`);
  }
  const code = response.responseStatus.valueBlock.valueDec;
  if (code !== 0) throw new OcspError(`responder said ${RESPONSE_STATUS[code] ?? `status ${code}`}`);
  if (!response.responseBytes) throw new OcspError('successful response without responseBytes');
  if (response.responseBytes.responseType !== ID_PKIX_OCSP_BASIC) throw new OcspError(`unsupported response type ${response.responseBytes.responseType}`);
  try {
    return pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
  } catch {
    throw new OcspError('malformed BasicOCSPResponse');
  }
}

// RFC 8954: a responder may leave the nonce out (pre-produced responses), but one that echoes a
// different nonce is answering someone else's request: a replay. True when our nonce came back.
function checkNonce(basic: Pkijs.BasicOCSPResponse, expect: OcspExpectation): boolean {
  const extension = basic.tbsResponseData.responseExtensions?.find((candidate) => candidate.extnID === ID_PKIX_OCSP_NONCE);
  if (!extension) return false;
  const echoed = Buffer.from(extension.extnValue.valueBlock.valueHexView);
  // Some responders echo the bare nonce rather than the OCTET STRING around it.
  if (!echoed.equals(expect.nonceValue) && !echoed.equals(expect.nonce)) throw new OcspError('nonce mismatch: the response answers a different request (replayed?)');
  return true;
}

async function matchingResponse(basic: Pkijs.BasicOCSPResponse, subject: CheckSubject): Promise<Pkijs.SingleResponse> {
  const engine = cryptoEngine();
  const ours = new Map<string, Pkijs.CertID | undefined>();
  for (const single of basic.tbsResponseData.responses) {
    const hashOid = single.certID.hashAlgorithm.algorithmId;
    if (!ours.has(hashOid)) {
      const hash = engine.getAlgorithmByOID(hashOid);
      const id = 'name' in hash ? await pkijs.CertID.create(subject.certificate, { hashAlgorithm: hash.name, issuerCertificate: subject.issuer }, engine) : undefined;
      ours.set(hashOid, id);
    }
    const id = ours.get(hashOid);
    if (id && single.certID.isEqual(id)) return single;
  }
  const serials = basic.tbsResponseData.responses.map((single) => serialKey(single.certID.serialNumber.valueBlock.valueHexView));
  if (serials.includes(subject.serial)) throw new OcspError(`the response is for serial ${subject.serial} of another issuer (CertID hashes differ)`);
  throw new OcspError(`the response is for another certificate: serial ${serials.join(', ') || '(none)'}, not ${subject.serial}`);
}

function checkFreshness(single: Pkijs.SingleResponse, now: Date, nonceEchoed: boolean): void {
  if (single.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    throw new OcspError(`response thisUpdate ${single.thisUpdate.toISOString()} is in the future (clock skew?)`);
  }
  if (single.nextUpdate && single.nextUpdate.getTime() < now.getTime() - CLOCK_SKEW_MS) {
    throw new OcspError(`stale response: nextUpdate ${single.nextUpdate.toISOString()} has passed`);
  }
  // No nextUpdate means "newer information is always available" (RFC 6960 4.2.2.1), so nothing
  // bounds how long such a response could be replayed unless our nonce proves it is new: then
  // insist that it was produced recently.
  if (!single.nextUpdate && !nonceEchoed && single.thisUpdate.getTime() < now.getTime() - MAX_AGE_WITHOUT_NEXT_UPDATE_MS) {
    throw new OcspError(`stale response: no nextUpdate, no nonce, and thisUpdate ${single.thisUpdate.toISOString()} is more than 24 h old`);
  }
}

// CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
// RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
function certificateStatus(single: Pkijs.SingleResponse): Pick<OcspAnswer, 'status' | 'revokedAt' | 'reason'> {
  // pkijs leaves certStatus as the raw asn1js CHOICE alternative (typed `any`).
  const raw = Buffer.from((single.certStatus as { valueBeforeDecodeView: Uint8Array }).valueBeforeDecodeView);
  const status = readTlv(raw);
  switch (status.tag) {
    case 0x80:
      return { status: 'good' };
    case 0x82:
      return { status: 'unknown' };
    case 0xa1: {
      const [time, reason] = children(status);
      if (!time || time.tag !== TAG.GENERALIZED_TIME) throw new OcspError('malformed RevokedInfo (no revocationTime)');
      const revoked = { status: 'revoked' as const, revokedAt: decodeTime(time) };
      if (reason?.tag !== 0xa0) return revoked;
      const [enumerated] = children(reason);
      return enumerated?.tag === 0x0a ? { ...revoked, reason: reasonName(decodeSmallInteger(enumerated)) } : revoked;
    }
    default:
      throw new OcspError(`unrecognised certStatus (tag 0x${status.tag.toString(16)})`);
  }
}
