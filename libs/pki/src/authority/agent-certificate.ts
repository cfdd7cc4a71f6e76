// Agent mTLS identities: short-lived client certificates that name the agent by a URI SAN. The
// server decides every field; from the CSR only the (verified) public key is used.
import { randomSerialHex, HOUR_MS, validityFromNow } from './certificate-fields';
import { verifyCsr } from './csr';
import { FleetCaMaterial, loadFleetCa } from './fleet-ca';
import { AGENT_ORGANIZATION, AGENT_URI_PREFIX, agentUri, assertValidAgentId, isValidAgentId, SERVER_ROLE_URI } from './fleet-identity';
import { sha256Fingerprint } from './fingerprint';
import { extendedKeyUsages, readCertificate, uriSubjectAltNames } from './certificate-reading';
import { PemOrDer, toPem } from './pem';
import { webcrypto, x509 } from './x509-runtime';

// Generous ceiling that still catches a days-for-hours mix-up; policy sets the real limit.
export const MAX_AGENT_VALIDITY_HOURS = 24 * 366;

export interface IssueAgentCertificateOptions {
  ca: FleetCaMaterial;
  csrPem: string;
  agentId: string;
  validityHours: number;
  now?: Date;
}

export interface IssuedAgentCertificate {
  certificatePem: string;
  /** Lowercase hex, as stored and as OpenSSL prints it (without colons). */
  serial: string;
  /** Clamped to the CA's own notAfter. */
  notAfter: Date;
  fingerprintSha256: string;
}

/** Signs the CSR's public key as agent `agentId`. Throws CsrRejectedError for a bad CSR. */
export async function issueAgentCertificate(options: IssueAgentCertificateOptions): Promise<IssuedAgentCertificate> {
  const { ca, csrPem, agentId, validityHours, now = new Date() } = options;
  assertValidAgentId(agentId);
  if (!(validityHours > 0 && validityHours <= MAX_AGENT_VALIDITY_HOURS)) {
    throw new Error(`validityHours must be in (0, ${MAX_AGENT_VALIDITY_HOURS}], got ${validityHours}`);
  }
  const csr = await verifyCsr(csrPem);
  const issuer = await loadFleetCa(ca);
  const validity = validityFromNow(validityHours * HOUR_MS, now, issuer.certificate.notAfter);
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: [{ CN: [agentId] }, { O: [AGENT_ORGANIZATION] }],
      issuer: issuer.certificate.subjectName,
      ...validity,
      publicKey: csr.request.publicKey,
      signingKey: issuer.signingKey.privateKey,
      signingAlgorithm: issuer.signingKey.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: agentUri(agentId) }], false),
        await x509.SubjectKeyIdentifierExtension.create(csr.request.publicKey, false, webcrypto),
        issuer.authorityKeyIdentifier,
      ],
    },
    webcrypto,
  );
  return {
    certificatePem: toPem(certificate.rawData, 'CERTIFICATE'),
    serial: certificate.serialNumber.toLowerCase(),
    notAfter: certificate.notAfter,
    fingerprintSha256: sha256Fingerprint(Buffer.from(certificate.rawData)),
  };
}

/**
 * The agent id a certificate was issued for, or undefined when it is not a well-formed agent
 * certificate: exactly one agent URI SAN, CN equal to the id, clientAuth EKU, no server marker.
 * Does not check the signature or validity: TLS has done that for a peer certificate.
 */
export function agentIdFromCertificate(certificate: PemOrDer): string | undefined {
  const parsed = readCertificate(certificate);
  if (!parsed) return undefined;
  const uris = uriSubjectAltNames(parsed);
  if (uris.includes(SERVER_ROLE_URI)) return undefined;
  const agentUris = uris.filter((uri) => uri.startsWith(AGENT_URI_PREFIX));
  if (agentUris.length !== 1) return undefined;
  const agentId = agentUris[0].slice(AGENT_URI_PREFIX.length);
  const commonNames = parsed.subjectName.getField('CN');
  if (!isValidAgentId(agentId) || commonNames.length !== 1 || commonNames[0] !== agentId) return undefined;
  return extendedKeyUsages(parsed).includes(x509.ExtendedKeyUsage.clientAuth) ? agentId : undefined;
}
