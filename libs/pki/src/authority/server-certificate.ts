// The control server's own TLS certificate, signed by the fleet CA. It carries a role marker URI
// SAN that agents require, so an agent certificate (same CA) can never impersonate the server.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { DAY_MS, randomSerialHex, validityFromNow } from './certificate-fields';
import { FleetCaMaterial, loadFleetCa } from './fleet-ca';
import { AGENT_URI_PREFIX, SERVER_ROLE_URI } from './fleet-identity';
import { generateP256KeyPair } from './signing-keys';
import { PemOrDer, toPem } from './pem';
import { webcrypto, x509, X509 } from './x509-runtime';

const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

export interface IssueServerCertificateOptions {
  ca: FleetCaMaterial;
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  validityDays?: number;
  now?: Date;
}

// LDH labels with an optional leading wildcard label; enough to catch typos and injection.
const DNS_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Generates a fresh P-256 key and a serverAuth certificate for it. */
export async function issueServerCertificate(options: IssueServerCertificateOptions): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const { ca, commonName, dnsNames = [], ipAddresses = [], validityDays = 397, now = new Date() } = options;
  for (const name of dnsNames) if (name.length > 253 || !DNS_NAME.test(name)) throw new Error(`invalid DNS name "${name}"`);
  for (const ip of ipAddresses) if (!isIP(ip)) throw new Error(`invalid IP address "${ip}"`);
  if (!commonName.trim()) throw new Error('server commonName must not be empty');
  const issuer = await loadFleetCa(ca);
  const { keys, privateKeyPem } = await generateP256KeyPair();
  const subjectAltNames: X509.JsonGeneralNames = [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    { type: 'url', value: SERVER_ROLE_URI },
  ];
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: [{ CN: [commonName] }],
      issuer: issuer.certificate.subjectName,
      ...validityFromNow(validityDays * DAY_MS, now, issuer.certificate.notAfter),
      publicKey: keys.publicKey,
      signingKey: issuer.signingKey.privateKey,
      signingAlgorithm: issuer.signingKey.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(subjectAltNames, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        issuer.authorityKeyIdentifier,
      ],
    },
    webcrypto,
  );
  return { certificatePem: toPem(certificate.rawData, 'CERTIFICATE'), privateKeyPem };
}

/**
 * True when the certificate carries the server role marker, serverAuth, and nothing that makes
 * it an agent or a CA. Agents call this on the server's certificate after TLS verified the chain,
 * on every connection, so it uses Node's own parser rather than loading @peculiar/x509.
 */
export function isServerCertificate(certificate: PemOrDer): boolean {
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(typeof certificate === 'string' ? certificate : Buffer.from(certificate));
  } catch {
    return false;
  }
  if (parsed.ca) return false;
  const uris = (parsed.subjectAltName ?? '')
    .split(/, (?=[A-Za-z ]+:)/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4).replace(/^"(.*)"$/, '$1'));
  return (
    uris.includes(SERVER_ROLE_URI) &&
    !uris.some((uri) => uri.startsWith(AGENT_URI_PREFIX)) &&
    // Node's keyUsage lists the extended key usage OIDs.
    (parsed.keyUsage ?? []).includes(SERVER_AUTH_OID)
  );
}
