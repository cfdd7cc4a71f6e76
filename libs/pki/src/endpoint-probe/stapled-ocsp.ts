// The OCSP response a server staples into its handshake (RFC 6066 status_request), read with the
// revocation checker's own verification: signer, CertID, freshness.
import { readOcspResponse } from '../revocation-check/ocsp-response';
import { describeSubject } from '../revocation-check/subject';

export interface StapledOcsp {
  /** good | revoked | unknown: a verified answer; invalid: stapled but failed verification; unverified: no issuer to verify against. */
  status: 'good' | 'revoked' | 'unknown' | 'invalid' | 'unverified';
  detail: string;
  thisUpdate?: Date;
  nextUpdate?: Date;
  revokedAt?: Date;
  reason?: string;
}

const NO_NONCE = Buffer.alloc(0);

/** Reads a stapled response about `leafDer`; `issuerDer` from the served chain or the trust store. */
export async function readStapledOcsp(response: Buffer, leafDer: Buffer, issuerDer: Buffer | undefined, now: Date): Promise<StapledOcsp> {
  if (!issuerDer) return { status: 'unverified', detail: `${response.length}-byte response stapled; the issuer is neither served nor trusted, so it was not verified` };
  try {
    // A stapled response answers no request of ours, so there is no nonce to expect.
    const answer = await readOcspResponse(response, { subject: describeSubject(leafDer, issuerDer), nonceValue: NO_NONCE, nonce: NO_NONCE, now });
    return {
      status: answer.status,
      detail: `stapled, signed by ${answer.signer}`,
      thisUpdate: answer.thisUpdate,
      nextUpdate: answer.nextUpdate,
      revokedAt: answer.revokedAt,
      reason: answer.reason,
    };
  } catch (error) {
    return { status: 'invalid', detail: `stapled response rejected: ${error instanceof Error ? error.message : String(error)}` };
  }
}
