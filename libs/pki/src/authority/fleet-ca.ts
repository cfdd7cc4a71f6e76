// The fleet CA: a self-signed ECDSA P-256 root that signs only end-entity certificates (pathLen 0)
// for the control server and the agents.
import { CaMaterialError } from './errors';
import { DAY_MS, randomSerialHex, validityFromNow } from './certificate-fields';
import { generateP256KeyPair, importSigningKey, SigningKey } from './signing-keys';
import { toPem } from './pem';
import { EcdsaParams, webcrypto, x509, X509 } from './x509-runtime';

/** A CA certificate and its unencrypted PKCS#8 private key, both PEM. */
export interface FleetCaMaterial {
  certificatePem: string;
  privateKeyPem: string;
}

export interface CreateFleetCaOptions {
  commonName: string;
  validityDays?: number;
  now?: Date;
}

export async function createFleetCa({ commonName, validityDays = 3650, now = new Date() }: CreateFleetCaOptions): Promise<FleetCaMaterial> {
  if (!commonName.trim()) throw new Error('fleet CA commonName must not be empty');
  const { keys, privateKeyPem } = await generateP256KeyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: [{ CN: [commonName] }],
      ...validityFromNow(validityDays * DAY_MS, now),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certificatePem: toPem(certificate.rawData, 'CERTIFICATE'), privateKeyPem };
}

/** A CA ready to sign: parsed certificate, signing key, and the AKI that children must carry. */
export interface LoadedFleetCa {
  certificate: X509.X509Certificate;
  signingKey: SigningKey;
  authorityKeyIdentifier: X509.AuthorityKeyIdentifierExtension;
}

/** Checks the CA material before it signs anything: a CA certificate whose key matches. */
export async function loadFleetCa(ca: FleetCaMaterial): Promise<LoadedFleetCa> {
  let certificate: X509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(ca.certificatePem);
  } catch (error) {
    throw new CaMaterialError(`cannot read the CA certificate: ${(error as Error).message}`);
  }
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw new CaMaterialError(`certificate "${certificate.subject}" is not a CA (basicConstraints CA:TRUE missing)`);
  const signingKey = await importSigningKey(ca.privateKeyPem);
  if (!signingKey.publicKeySpki.equals(Buffer.from(certificate.publicKey.rawData))) {
    throw new CaMaterialError('the private key does not belong to the CA certificate');
  }
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const authorityKeyIdentifier = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey, false, webcrypto);
  return { certificate, signingKey, authorityKeyIdentifier };
}
