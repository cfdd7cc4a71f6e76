// RFC 6960 4.2.1 OCSPResponse: a BasicOCSPResponse built as DER from pre-encoded parts (responder
// ID, algorithm, certs, status choices, the CertIDs as the client sent them) and one signature.
import { sign } from 'node:crypto';
import { bitString, explicit, objectIdentifier, octetString, sequence, tlv } from '../der/der';
import { generalizedTime } from './generalized-time';
import { OcspCertId, OcspResponseStatus } from './ocsp-request';
import { OCSP_SIGNER, OcspSigner } from './ocsp-signer';
import { isRevocationReason, REASON_ENUMERATED, RevocationReason } from './reasons';

export type OcspCertStatus = { kind: 'good' } | { kind: 'revoked'; revokedAt: Date; reason?: RevocationReason } | { kind: 'unknown' };

export interface OcspSingleAnswer {
  certId: OcspCertId;
  status: OcspCertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

export interface OcspAnswer {
  producedAt: Date;
  responses: readonly OcspSingleAnswer[];
  /** From ParsedOcspRequest.nonce: echoed in a nonce response extension. */
  nonce?: Buffer;
}

const ENUMERATED = 0x0a;
const RESPONSE_STATUS_CODES: Record<'successful' | OcspResponseStatus, number> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  // 4 is unused
  sigRequired: 5,
  unauthorized: 6,
};
const statusOf = (code: number) => tlv(ENUMERATED, [Buffer.from([code])]);
const SUCCESSFUL = statusOf(RESPONSE_STATUS_CODES.successful);
const ERROR_RESPONSES = new Map<string, Buffer>(
  Object.entries(RESPONSE_STATUS_CODES)
    .filter(([name]) => name !== 'successful')
    .map(([name, code]) => [name, sequence([statusOf(code)])]),
);
const BASIC_RESPONSE = objectIdentifier('1.3.6.1.5.5.7.48.1.1');
const NONCE = objectIdentifier('1.3.6.1.5.5.7.48.1.2');
// CertStatus: good [0] IMPLICIT NULL, unknown [2] IMPLICIT UnknownInfo (NULL), revoked [1] IMPLICIT RevokedInfo.
const GOOD = Buffer.from([0x80, 0]);
const UNKNOWN = Buffer.from([0x82, 0]);
const REVOKED_TAG = 0xa1;
// revocationReason [0] EXPLICIT CRLReason; absent rather than 'unspecified', as in CRL entries.
const REVOCATION_REASONS = new Map<RevocationReason, Buffer>(
  (Object.entries(REASON_ENUMERATED) as [RevocationReason, Buffer][]).filter(([reason]) => reason !== 'unspecified').map(([reason, value]) => [reason, explicit(0, value)]),
);

/**
 * A successful OCSPResponse (id-pkix-ocsp-basic) signed by `signer`, DER. The caller has matched
 * each CertID to `signer.issuer`. Throws RangeError/TypeError for a malformed answer.
 */
export function buildOcspResponse(signer: OcspSigner, answer: OcspAnswer): Buffer {
  const parts = signer?.[OCSP_SIGNER];
  if (!parts) throw new TypeError('buildOcspResponse: `signer` must come from ocspSignerForCa or ocspSignerForDelegate');
  const { producedAt, responses, nonce } = answer;
  if (!Array.isArray(responses) || responses.length === 0) throw new RangeError('an OCSP response needs at least one answer');
  const singles = responses.map(singleResponse);
  // ResponseData ::= SEQUENCE { version [0] DEFAULT v1 (omitted), responderID, producedAt, responses, responseExtensions [1] OPTIONAL }
  const data = [parts.responderId, generalizedTime(producedAt), sequence(singles)];
  if (nonce !== undefined) {
    if (!(nonce instanceof Uint8Array) || nonce.length === 0) throw new TypeError('nonce must be the bytes from ParsedOcspRequest.nonce');
    data.push(explicit(1, sequence([sequence([NONCE, octetString(nonce)])])));
  }
  const tbs = sequence(data);
  // ECDSA comes out as DER Ecdsa-Sig-Value and RSA as PKCS#1 v1.5: what the OIDs say.
  const signature = sign(parts.digest, tbs, parts.key);
  const basic = sequence([tbs, parts.signatureAlgorithm, bitString(signature), parts.certs]);
  return sequence([SUCCESSFUL, explicit(0, sequence([BASIC_RESPONSE, octetString(basic)]))]);
}

// SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate, nextUpdate [0] EXPLICIT OPTIONAL }
function singleResponse({ certId, status, thisUpdate, nextUpdate }: OcspSingleAnswer): Buffer {
  const certIdDer = certId?.der;
  if (!(certIdDer instanceof Uint8Array) || certIdDer[0] !== 0x30) throw new TypeError('certId.der must be the CertID from parseOcspRequest');
  const fields = [certIdDer, certStatus(status), generalizedTime(thisUpdate)];
  if (nextUpdate !== undefined) fields.push(explicit(0, generalizedTime(nextUpdate)));
  return sequence(fields);
}

function certStatus(status: OcspCertStatus): Buffer {
  switch (status?.kind) {
    case 'good':
      return GOOD;
    case 'unknown':
      return UNKNOWN;
    case 'revoked': {
      const { reason } = status;
      const revokedAt = generalizedTime(status.revokedAt);
      if (reason === undefined || reason === 'unspecified') return tlv(REVOKED_TAG, [revokedAt]);
      if (!isRevocationReason(reason)) throw new RangeError(`unknown revocation reason "${String(reason).slice(0, 40)}"`);
      // A certificate taken off hold is good again; removeFromCRL only means something in delta CRLs.
      if (reason === 'removeFromCRL') throw new RangeError('removeFromCRL is not a revocation status: answer good');
      return tlv(REVOKED_TAG, [revokedAt, REVOCATION_REASONS.get(reason)!]);
    }
    default:
      throw new TypeError(`unknown certificate status kind "${String((status as { kind?: unknown })?.kind).slice(0, 40)}"`);
  }
}

/** An unsuccessful OCSPResponse (no responseBytes), DER: a copy of a constant, so callers may keep or change it. */
export function ocspErrorResponse(status: OcspResponseStatus): Buffer {
  const encoded = ERROR_RESPONSES.get(status);
  if (!encoded) throw new RangeError(`unknown OCSP response status "${String(status).slice(0, 40)}"`);
  return Buffer.from(encoded);
}
