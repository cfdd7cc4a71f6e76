// Where a certificate says its revocation status can be asked: authorityInfoAccess (OCSP,
// caIssuers) and cRLDistributionPoints (fullName URIs). Parsed with pkijs, which decodes both
// extensions into objects; only http/https URLs are kept (ldap:// and others are ignored).
import { pkijs, Pkijs } from './pkijs-runtime';
import type { RevocationUrls } from './types';

const ID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
const ID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const ID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const ID_AD_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
const GENERAL_NAME_URI = 6;

/** URLs from authorityInfoAccess (OCSP, caIssuers) and cRLDistributionPoints (fullName URIs), http/https only. */
export function revocationUrls(certificateDer: Buffer): RevocationUrls {
  return urlsOfCertificate(parseCertificate(certificateDer, 'certificate'));
}

/** pkijs Certificate from DER; throws an Error naming `what` when it is not one. */
export function parseCertificate(der: Uint8Array, what: string): Pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(der);
  } catch (error) {
    throw new Error(`${what} is not a DER X.509 certificate: ${(error as Error).message}`);
  }
}

export function urlsOfCertificate(certificate: Pkijs.Certificate): RevocationUrls {
  const urls: RevocationUrls = { ocsp: [], crl: [], caIssuers: [] };
  for (const extension of certificate.extensions ?? []) {
    // A malformed extension has no parsedValue (pkijs keeps the raw bytes): it names nothing.
    const value = extension.parsedValue;
    if (extension.extnID === ID_AUTHORITY_INFO_ACCESS && value instanceof pkijs.InfoAccess) {
      for (const description of value.accessDescriptions) {
        const list = description.accessMethod === ID_AD_OCSP ? urls.ocsp : description.accessMethod === ID_AD_CA_ISSUERS ? urls.caIssuers : undefined;
        if (list) addUrl(list, description.accessLocation);
      }
    } else if (extension.extnID === ID_CRL_DISTRIBUTION_POINTS && value instanceof pkijs.CRLDistributionPoints) {
      for (const point of value.distributionPoints) {
        // nameRelativeToCRLIssuer (an RDN) names no URL; cRLIssuer (indirect CRLs) is not supported.
        if (Array.isArray(point.distributionPoint)) for (const name of point.distributionPoint) addUrl(urls.crl, name);
      }
    }
  }
  return urls;
}

/** URIs of GeneralNames (e.g. an issuingDistributionPoint's fullName), any scheme. */
export function uriNames(names: readonly Pkijs.GeneralName[]): string[] {
  return names.filter((name) => name.type === GENERAL_NAME_URI && typeof name.value === 'string').map((name) => name.value as string);
}

function addUrl(list: string[], name: Pkijs.GeneralName): void {
  if (name.type !== GENERAL_NAME_URI || typeof name.value !== 'string') return;
  const text = name.value.trim();
  if (isHttpUrl(text) && !list.includes(text)) list.push(text);
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
