// Checks on a job's certificate before anything is written: it certifies the key this host made
// for the job, and it chains through the given intermediates to the given root. Native crypto only.
import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block in `text`, parsed; throws on anything else or an unparseable block. */
export function parseCertificates(text: string, what: string): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (text.replace(PEM_CERTIFICATE, '').trim() !== '') throw new Error(`${what}: unexpected text outside CERTIFICATE blocks`);
  return blocks.map((pem) => {
    try {
      return new X509Certificate(pem);
    } catch (error) {
      throw new Error(`${what}: not a parseable certificate (${(error as Error).message})`);
    }
  });
}

export function describeCertificate(cert: X509Certificate): string {
  // Node leaves subject/issuer undefined when the name is empty (SAN-only certificates).
  const name = (dn: string | undefined) => (dn ?? '').replace(/\n/g, ', ') || '(empty)';
  return `serial ${serialHex(cert)} (subject ${name(cert.subject)}, issuer ${name(cert.issuer)})`;
}

/** The serial as lowercase hex, as Node prints it. */
export function serialHex(cert: X509Certificate): string {
  return cert.serialNumber.toLowerCase();
}

function spki(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

/**
 * Why `leaf` + `intermediates` (nearest first) do not lead to `root`, or undefined when they do:
 * each certificate is issued (names, key identifiers) and signed by the next, the intermediates
 * and root are CAs, the root is self-signed, and all are valid at `now`.
 */
export function chainProblem(leaf: X509Certificate, intermediates: readonly X509Certificate[], root: X509Certificate, now: Date): string | undefined {
  const path = [leaf, ...intermediates];
  // A server may send the root too; it is then the end of the path, not an intermediate.
  if (path.length > 1 && path[path.length - 1].fingerprint256 === root.fingerprint256) path.pop();
  const all = [...path, root];
  for (let i = 0; i < all.length; i++) {
    const cert = all[i];
    const issuer = all[i + 1] ?? root;
    const role = i === 0 ? 'certificate' : i === all.length - 1 ? 'root' : `intermediate ${i}`;
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
      return `${role} ${describeCertificate(cert)} is not valid now (valid ${cert.validFrom} to ${cert.validTo})`;
    }
    if (i > 0 && !cert.ca) return `${role} ${describeCertificate(cert)} is not a CA certificate`;
    if (!cert.checkIssued(issuer)) {
      return i === all.length - 1
        ? `the root ${describeCertificate(cert)} is not self-issued`
        : `${role} ${describeCertificate(cert)} was not issued by ${describeCertificate(issuer)}`;
    }
    if (!signatureVerifies(cert, issuer, i > 0)) return `the signature on ${role} ${describeCertificate(cert)} does not verify with its issuer's key`;
  }
  return undefined;
}

/**
 * CA links (intermediate -> root, root -> itself) are the same for every job and every validation
 * handshake; a link whose signature verified once is known by both fingerprints and not verified
 * again (an ECDSA P-384 verify costs about a millisecond). Leaves are always verified.
 */
const verifiedCaLinks = new Set<string>();
const MAX_CACHED_LINKS = 256;

function signatureVerifies(cert: X509Certificate, issuer: X509Certificate, isCaLink: boolean): boolean {
  const link = isCaLink ? `${cert.fingerprint256}/${issuer.fingerprint256}` : '';
  if (isCaLink && verifiedCaLinks.has(link)) return true;
  if (!cert.verify(issuer.publicKey)) return false;
  if (isCaLink) {
    if (verifiedCaLinks.size >= MAX_CACHED_LINKS) verifiedCaLinks.clear();
    verifiedCaLinks.add(link);
  }
  return true;
}

export interface CheckedJobCertificate {
  leaf: X509Certificate;
  intermediates: X509Certificate[];
  root: X509Certificate;
}

/** Throws with the reason unless the certificate is for `privateKeyPem` and chains to `rootPem`. */
export function checkJobCertificate(
  material: { certificatePem: string; chainPem: string; rootPem: string },
  privateKeyPem: string,
  now: Date,
): CheckedJobCertificate {
  const leaves = parseCertificates(material.certificatePem, 'certificate');
  if (leaves.length !== 1) throw new Error(`certificate: expected exactly one certificate, found ${leaves.length}`);
  const intermediates = parseCertificates(material.chainPem, 'chain');
  const roots = parseCertificates(material.rootPem, 'root');
  if (roots.length !== 1) throw new Error(`root: expected exactly one certificate, found ${roots.length}`);
  const [leaf] = leaves;
  const [root] = roots;
  const jobKey = createPublicKey(createPrivateKey(privateKeyPem));
  if (!spki(leaf.publicKey).equals(spki(jobKey))) {
    throw new Error(`the certificate ${describeCertificate(leaf)} is not for the key this host generated for the job`);
  }
  const problem = chainProblem(leaf, intermediates, root, now);
  if (problem) throw new Error(`the certificate does not chain to the root: ${problem}`);
  return { leaf, intermediates, root };
}

/** Whether `cert` is valid for `name` (a DNS name or an IP literal), by Node's own matching. */
export function certificateMatchesName(cert: X509Certificate, name: string): boolean {
  return isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
}

/** The first DNS name of the certificate's subjectAltName, if any. */
export function firstDnsName(cert: X509Certificate): string | undefined {
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) return entry.slice(4);
  }
  return undefined;
}
