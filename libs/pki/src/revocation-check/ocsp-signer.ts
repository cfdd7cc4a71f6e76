// Who may sign an OCSP answer about a certificate (RFC 6960 4.2.2.2): its issuer itself, or a
// delegated responder whose certificate the issuer signed and gave id-kp-OCSPSigning. pkijs's
// BasicOCSPResponse.verify is not used: it requires the signer certificate inside the response
// (an issuer-signed response usually carries none) and validates a chain to trust anchors,
// where all we need is "signed by this issuer's key, directly or through one delegation".
import { X509Certificate } from 'node:crypto';
import { CLOCK_SKEW_MS } from './clock';
import type { Pkijs } from './pkijs-runtime';
import { verifySignature } from './signature';
import { oneLine } from './subject';

const ID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

export class OcspError extends Error {
  override name = 'OcspError';
}

/** Describes the verified signer ("the issuer" or "delegated responder ..."); throws OcspError. */
export function verifyResponder(basic: Pkijs.BasicOCSPResponse, issuer: X509Certificate, now: Date): string {
  const tbs = basic.tbsResponseData.tbsView;
  const signature = basic.signature.valueBlock.valueHexView;
  const signedBy = (certificate: X509Certificate) => verifySignature(tbs, basic.signatureAlgorithm, signature, certificate.publicKey);
  if (signedBy(issuer)) return 'the issuer';
  const problems: string[] = [];
  for (const embedded of basic.certs ?? []) {
    const responder = new X509Certificate(Buffer.from(embedded.toSchema().toBER()));
    if (!signedBy(responder)) continue;
    const name = `"${oneLine(responder.subject)}"`;
    if (!responder.checkIssued(issuer) || !responder.verify(issuer.publicKey)) {
      problems.push(`response signed by ${name}, which the certificate's issuer did not issue`);
    } else if (!(responder.keyUsage ?? []).includes(ID_KP_OCSP_SIGNING)) {
      problems.push(`responder certificate ${name} lacks extended key usage id-kp-OCSPSigning`);
    } else if (Date.parse(responder.validFrom) > now.getTime() + CLOCK_SKEW_MS || Date.parse(responder.validTo) < now.getTime() - CLOCK_SKEW_MS) {
      problems.push(`responder certificate ${name} is outside its validity (${responder.validFrom} to ${responder.validTo})`);
    } else {
      return `delegated responder ${name}`;
    }
  }
  if (problems.length) throw new OcspError(`untrusted response: ${problems.join('; ')}`);
  const count = basic.certs?.length ?? 0;
  throw new OcspError(`bad signature: the response does not verify with the issuer's key${count ? ` nor with any of the ${count} certificate(s) it carries` : ''}`);
}
