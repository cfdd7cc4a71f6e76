// RFC 5280 v2 CRLs from the issuing CA. The server keeps every revoked entry already encoded
// (encodeRevokedEntry), so a new CRL is: a few constant parts, one copy of the entries into a
// single buffer, and one `crypto.sign`.
import { sign } from 'node:crypto';
import { CaMaterialError } from '../authority/errors';
import { CA_SIGNER, IssuingCa } from '../issuance/issuing-ca';
import { bitString, explicit, objectIdentifier, sequence, TAG, x509Time } from '../der/der';
import { keyUsageAllows, readCertificateParts } from './certificate-parts';
import { isRevocationReason, REASON_ENUMERATED, RevocationReason } from './reasons';
import { crlNumberInteger, derHeader, extension, serialNumberFromHex, uriGeneralName } from './x509-encoding';

const VERSION_V2 = Buffer.from([TAG.INTEGER, 1, 1]);
const REASON_CODE = objectIdentifier('2.5.29.21');
const CRL_NUMBER = objectIdentifier('2.5.29.20');
const DELTA_CRL_INDICATOR = objectIdentifier('2.5.29.27');
const FRESHEST_CRL = objectIdentifier('2.5.29.46');
const CRL_SIGN_BIT = 6;

// crlEntryExtensions holding only reasonCode (non-critical), one per reason. RFC 5280 5.3.1:
// the extension is absent rather than 'unspecified'.
const ENTRY_EXTENSIONS = new Map<RevocationReason, Buffer>();
for (const [reason, value] of Object.entries(REASON_ENUMERATED) as [RevocationReason, Buffer][]) {
  if (reason !== 'unspecified') ENTRY_EXTENSIONS.set(reason, sequence([extension(REASON_CODE, false, value)]));
}

export interface RevokedEntry {
  /** Hex (any case, no colons), positive, at most 20 octets encoded. */
  serialHex: string;
  revokedAt: Date;
  /** 'removeFromCRL' belongs in delta CRLs only (RFC 5280 5.3.1); it is the caller's to use right. */
  reason: RevocationReason;
}

/** One revokedCertificates entry, DER. Throws RangeError for a bad serial, date or reason. */
export function encodeRevokedEntry({ serialHex, revokedAt, reason }: RevokedEntry): Buffer {
  if (!isRevocationReason(reason)) throw new RangeError(`unknown revocation reason "${String(reason).slice(0, 40)}"`);
  if (!(revokedAt instanceof Date) || !Number.isFinite(revokedAt.getTime())) throw new RangeError('revokedAt is not a valid date');
  const serial = serialNumberFromHex(serialHex);
  const extensions = ENTRY_EXTENSIONS.get(reason);
  return sequence(extensions ? [serial, x509Time(revokedAt), extensions] : [serial, x509Time(revokedAt)]);
}

export interface CrlOptions {
  /** CRLNumber extension (non-critical): increases with every CRL (full and delta share the sequence). */
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** From encodeRevokedEntry; may be 100,000+ long. revokedCertificates is omitted when empty (RFC 5280 5.1.2.6). */
  entries: readonly Buffer[];
  /** When set: a delta CRL (DeltaCRLIndicator, critical) against the full CRL with this number. */
  deltaBaseCrlNumber?: bigint;
  /** FreshestCRL (non-critical) on a full CRL: where its delta CRLs are. */
  freshestCrlUrl?: string;
}

// Per-CA check, done once: a CRL from a CA without cRLSign fails at every relying party.
const crlSigningChecked = new WeakSet<IssuingCa>();

/** A v2 CRL signed by the issuing CA (AKI + CRLNumber extensions), DER. Throws RangeError for bad options. */
export function buildCrl(ca: IssuingCa, options: CrlOptions): Buffer {
  const signer = ca?.[CA_SIGNER];
  if (!signer) throw new TypeError('buildCrl: `ca` must come from loadIssuingCa');
  checkCrlSigning(ca);
  const { crlNumber, thisUpdate, nextUpdate, entries, deltaBaseCrlNumber, freshestCrlUrl } = options;
  const thisMs = thisUpdate instanceof Date ? thisUpdate.getTime() : NaN;
  const nextMs = nextUpdate instanceof Date ? nextUpdate.getTime() : NaN;
  if (!Number.isFinite(thisMs) || !Number.isFinite(nextMs)) throw new RangeError('thisUpdate and nextUpdate must be valid dates');
  if (nextMs <= thisMs) throw new RangeError('nextUpdate must be later than thisUpdate');
  if (!Array.isArray(entries)) throw new TypeError('entries must be an array of encoded entries');

  const extensions = [signer.authorityKeyIdentifierExtension, extension(CRL_NUMBER, false, crlNumberInteger(crlNumber, 'crlNumber'))];
  if (deltaBaseCrlNumber !== undefined) {
    if (freshestCrlUrl !== undefined) throw new RangeError('freshestCrlUrl belongs on a full CRL, not on a delta CRL');
    const base = crlNumberInteger(deltaBaseCrlNumber, 'deltaBaseCrlNumber');
    if (deltaBaseCrlNumber >= crlNumber) throw new RangeError('a delta CRL must have a larger crlNumber than its base CRL (RFC 5280 5.2.4)');
    extensions.push(extension(DELTA_CRL_INDICATOR, true, base));
  } else if (freshestCrlUrl !== undefined) {
    // CRLDistributionPoints syntax: DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } }
    const point = sequence([explicit(0, explicit(0, uriGeneralName(freshestCrlUrl, 'freshest CRL')))]);
    extensions.push(extension(FRESHEST_CRL, false, sequence([point])));
  }

  let entriesLength = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (!(entry instanceof Uint8Array) || entry.length < 2 || entry[0] !== TAG.SEQUENCE) throw new TypeError(`entries[${i}] is not an encoded entry from encodeRevokedEntry`);
    entriesLength += entry.length;
  }
  const head = [VERSION_V2, signer.algorithmAndIssuer, x509Time(thisUpdate), x509Time(nextUpdate)];
  const revokedHeader = entries.length ? derHeader(TAG.SEQUENCE, entriesLength) : undefined;
  const tail = explicit(0, sequence(extensions));

  // TBSCertList in one allocation: the entries are copied exactly once.
  let tbsLength = tail.length + (revokedHeader ? revokedHeader.length + entriesLength : 0);
  for (const part of head) tbsLength += part.length;
  const tbsHeader = derHeader(TAG.SEQUENCE, tbsLength);
  const tbs = Buffer.allocUnsafe(tbsHeader.length + tbsLength);
  let offset = 0;
  const put = (part: Uint8Array) => {
    tbs.set(part, offset);
    offset += part.length;
  };
  put(tbsHeader);
  head.forEach(put);
  if (revokedHeader) {
    put(revokedHeader);
    for (let i = 0; i < entries.length; i++) put(entries[i]);
  }
  put(tail);

  const signature = bitString(sign(signer.digest, tbs, signer.key));
  const outerLength = tbs.length + signer.signatureAlgorithm.length + signature.length;
  return Buffer.concat([derHeader(TAG.SEQUENCE, outerLength), tbs, signer.signatureAlgorithm, signature]);
}

function checkCrlSigning(ca: IssuingCa): void {
  if (crlSigningChecked.has(ca)) return;
  if (!keyUsageAllows(readCertificateParts(ca.certificateDer), CRL_SIGN_BIT)) {
    throw new CaMaterialError(`certificate "${ca.subject}" may not sign CRLs (keyUsage cRLSign missing)`);
  }
  crlSigningChecked.add(ca);
}
