// CRL downloads: fetch (DER or PEM), check issuer name, signature by the issuer's key, scope and
// freshness, then keep only an index of the revoked serials per URL until the CRL's nextUpdate
// (the raw bytes are dropped once indexed). Concurrent checks that need the same URL share one
// download.
import { decodeSinglePemOrDer } from '../authority/pem';
import { CLOCK_SKEW_MS } from './clock';
import { CrlError, indexRevoked, issuingDistributionPoint, readCrl, Revocation, unsupportedCrlExtension } from './crl-parse';
import { fetchBytes } from './http-fetch';
import { pkijs, Pkijs } from './pkijs-runtime';
import { algorithmFromDer, verifySignature } from './signature';
import { CheckSubject, oneLine } from './subject';
import { uriNames } from './urls';

export interface CrlIndex {
  url: string;
  /** Which issuer key verified it (CheckSubject.issuerKeyId). */
  signerKeyId: string;
  fetchedAt: Date;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: Map<string, Revocation>;
  /** From issuingDistributionPoint: the distribution point URIs it covers and which kinds of certificates. */
  scope: { uris: string[]; onlyUserCerts: boolean; onlyCaCerts: boolean };
}

export interface CrlStoreOptions {
  timeoutMs: number;
  maxBytes: number;
  now: () => Date;
}

export class CrlStore {
  private readonly cache = new Map<string, CrlIndex>();
  private readonly loading = new Map<string, Promise<CrlIndex>>();

  constructor(private readonly options: CrlStoreOptions) {}

  /** A verified, unexpired CRL from `url` for the subject's issuer. Throws CrlError or FetchError. */
  async get(url: string, subject: CheckSubject): Promise<{ crl: CrlIndex; cached: boolean }> {
    const cached = this.cache.get(url);
    if (cached && isFresh(cached, this.options.now()) && cached.signerKeyId === subject.issuerKeyId) return { crl: cached, cached: true };
    let pending = this.loading.get(url);
    if (!pending) {
      const load = this.load(url, subject).finally(() => {
        if (this.loading.get(url) === load) this.loading.delete(url);
      });
      this.loading.set(url, load);
      pending = load;
    }
    const crl = await pending;
    // Someone else's download, verified with another issuer's key (two CAs naming one URL):
    // fetch it again for this issuer rather than trust it.
    return { crl: crl.signerKeyId === subject.issuerKeyId ? crl : await this.load(url, subject), cached: false };
  }

  /** Cached CRLs still before their nextUpdate (expired ones are dropped). */
  size(): number {
    const now = this.options.now();
    for (const [url, crl] of this.cache) if (!isFresh(crl, now)) this.cache.delete(url);
    return this.cache.size;
  }

  private async load(url: string, subject: CheckSubject): Promise<CrlIndex> {
    const reply = await fetchBytes(url, {
      method: 'GET',
      accept: 'application/pkix-crl, application/x-pkcs7-crl;q=0.5, */*;q=0.1',
      timeoutMs: this.options.timeoutMs,
      maxBytes: this.options.maxBytes,
    });
    const now = this.options.now();
    let der: Buffer;
    try {
      der = decodeSinglePemOrDer(reply.body, ['X509 CRL']);
    } catch (error) {
      throw new CrlError(`not a CRL (${reply.body.length} bytes): ${(error as Error).message}`);
    }
    const crl = readCrl(der);
    if (!issuerNameOf(crl.issuer).isEqual(subject.issuer.subject)) {
      throw new CrlError(`the CRL's issuer name is not the certificate's issuer ("${oneLine(subject.issuerX509.subject)}")`);
    }
    if (!crl.innerAlgorithm.equals(crl.signatureAlgorithm)) throw new CrlError('malformed CRL: the two signature algorithm fields differ');
    let verified: boolean;
    try {
      verified = verifySignature(crl.tbs, algorithmFromDer(crl.signatureAlgorithm), crl.signature, subject.issuerX509.publicKey);
    } catch (error) {
      throw new CrlError(`signature not checked: ${(error as Error).message}`);
    }
    if (!verified) throw new CrlError(`bad signature: the CRL does not verify with the issuer's key ("${oneLine(subject.issuerX509.subject)}")`);
    const unsupported = unsupportedCrlExtension(crl.extensions);
    if (unsupported) throw new CrlError(`not usable: ${unsupported}`);
    const scope = readScope(issuingDistributionPoint(crl.extensions));
    if (crl.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS) throw new CrlError(`CRL thisUpdate ${crl.thisUpdate.toISOString()} is in the future (clock skew?)`);
    if (crl.nextUpdate && crl.nextUpdate.getTime() < now.getTime() - CLOCK_SKEW_MS) throw new CrlError(`expired CRL: nextUpdate ${crl.nextUpdate.toISOString()} has passed`);
    const index: CrlIndex = {
      url,
      signerKeyId: subject.issuerKeyId,
      fetchedAt: now,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      revoked: indexRevoked(crl.revokedList),
      scope,
    };
    // Without nextUpdate (or already past it, within the skew) there is no time to keep it until.
    if (isFresh(index, now)) {
      this.size(); // drops expired indexes, which may be large, of URLs no longer asked
      this.cache.set(url, index);
    }
    return index;
  }
}

/** The certificate's status on a CRL that applies to it; throws CrlError when the CRL does not cover it. */
export function lookUp(crl: CrlIndex, subject: CheckSubject): { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason?: string } {
  const { uris, onlyUserCerts, onlyCaCerts } = crl.scope;
  if (uris.length && !uris.some((uri) => uri === crl.url || subject.urls.crl.includes(uri))) {
    throw new CrlError(`the CRL is for distribution point ${uris.join(', ')}, which this certificate does not name`);
  }
  if (onlyCaCerts && !subject.isCa) throw new CrlError('the CRL covers only CA certificates');
  if (onlyUserCerts && subject.isCa) throw new CrlError('the CRL covers only end-entity certificates');
  const entry = crl.revoked.get(subject.serial);
  return entry ? { status: 'revoked', revokedAt: new Date(entry.revokedAt), reason: entry.reason } : { status: 'good' };
}

function issuerNameOf(der: Buffer): Pkijs.RelativeDistinguishedNames {
  try {
    return pkijs.RelativeDistinguishedNames.fromBER(der);
  } catch {
    throw new CrlError('malformed CRL: unreadable issuer name');
  }
}

const isFresh = (crl: CrlIndex, now: Date): boolean => crl.nextUpdate !== undefined && crl.nextUpdate.getTime() > now.getTime();

// issuingDistributionPoint (small: decoded by pkijs). Partitions this client cannot honour make
// the CRL unusable rather than silently incomplete.
function readScope(der: Buffer | undefined): CrlIndex['scope'] {
  if (!der) return { uris: [], onlyUserCerts: false, onlyCaCerts: false };
  let point: Pkijs.IssuingDistributionPoint;
  try {
    point = pkijs.IssuingDistributionPoint.fromBER(der);
  } catch {
    throw new CrlError('malformed issuingDistributionPoint extension');
  }
  if (point.indirectCRL) throw new CrlError('not usable: indirect CRLs are not supported');
  if (point.onlySomeReasons !== undefined) throw new CrlError('not usable: the CRL covers only some revocation reasons');
  if (point.onlyContainsAttributeCerts) throw new CrlError('not usable: the CRL covers only attribute certificates');
  const uris = Array.isArray(point.distributionPoint) ? uriNames(point.distributionPoint) : [];
  return { uris, onlyUserCerts: point.onlyContainsUserCerts, onlyCaCerts: point.onlyContainsCACerts };
}
