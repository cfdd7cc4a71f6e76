// One DER certificate → the fields discovery reports, read straight from the DER. Node's
// X509Certificate is built only when a signature must be checked: constructing one costs ~200 µs
// and native memory the GC does not see, more than everything else here together.
import { KeyObject, X509Certificate, createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { Asn1Error, TAG, Tlv, children, content, decodeOid, decodeTime, octets, readTlv, whole } from './asn1-reader';
import { keepDer } from './der-arena';
import { KeyInfo, describeKey, sha256Hex } from './key-info';
import { formatName } from './x509-name';
import { OID, SIGNATURE_ALGORITHMS } from './oids';
import { DiscoveredCertificate } from './types';

/** A certificate as parsed, before its place in a file (entry, format, chain, file) is known. */
export interface ParsedCertificate {
  /** Node's view of the certificate, built on first use (signatures crypto.verify cannot check). */
  readonly x509: X509Certificate;
  tbs: Buffer;
  signature: Buffer;
  signatureOid: string;
  /** The certificate's public key, shared across certificates with the same key; undefined if Node cannot load it. */
  publicKey: KeyObject | undefined;
  subjectDer: Buffer;
  issuerDer: Buffer;
  fields: Omit<DiscoveredCertificate, 'file' | 'entry' | 'format' | 'chainComplete' | 'chainLength' | 'pairedKey' | 'selfSigned'>;
}

// The same certificate recurs across a host's files (CA bundles, fullchain files, truststores; in
// the benchmark corpus one certificate in four is a repeat). A repeat found by its SHA-256 reuses the
// first parse: no second DER copy, name strings, dates or arrays, and no parsing. Findings of one
// certificate therefore share those parts: treat findings as read-only. Bounded; emptied by
// releaseDiscoveryCaches() at the end of a scan so nothing outlives it.
const PARSED_CACHE_LIMIT = 2048;
const parsedCache = new Map<string, ParsedCertificate>();

/** Parses one DER certificate (trailing bytes after it are ignored); throws on anything invalid. */
export function parseCertificate(data: Buffer): ParsedCertificate {
  const certificate = readTlv(data);
  if (certificate.tag !== TAG.SEQUENCE) throw new Asn1Error('not a DER SEQUENCE');
  const fingerprintSha256 = sha256Hex(whole(certificate));
  const known = parsedCache.get(fingerprintSha256);
  if (known) return known;
  const parsed = parseNew(whole(certificate), fingerprintSha256);
  if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.delete(parsedCache.keys().next().value as string);
  parsedCache.set(fingerprintSha256, parsed);
  return parsed;
}

function parseNew(bytes: Buffer, fingerprintSha256: string): ParsedCertificate {
  const der = keepDer(bytes); // own copy: the file's bytes are released after parsing
  const [tbs, signatureAlgorithm, signatureBits] = children(readTlv(der));
  const tbsFields = children(tbs);
  let i = tbsFields[0].tag === 0xa0 ? 1 : 0; // optional [0] version
  const serial = tbsFields[i++];
  i++; // inner signature algorithm, same as the outer one
  const issuer = tbsFields[i++];
  const [notBefore, notAfter] = children(tbsFields[i++]);
  const subject = tbsFields[i++];
  const spki = tbsFields[i++];
  const extensions = tbsFields.slice(i).find((f) => f.tag === 0xa3);
  const sigOid = decodeOid(children(signatureAlgorithm)[0]);
  const san: GeneralNames = { dnsNames: NO_NAMES, ipAddresses: NO_NAMES, emails: NO_NAMES, uris: NO_NAMES };
  let isCa = false;
  let subjectKeyId = '';
  let authorityKeyId = '';
  for (const extension of extensions ? children(children(extensions)[0]) : []) {
    const parts = children(extension);
    const value = readTlv(octets(parts[parts.length - 1]));
    switch (decodeOid(parts[0])) {
      case OID.subjectAltName:
        readGeneralNames(value, san);
        break;
      case OID.basicConstraints: {
        const first = children(value)[0];
        isCa = first?.tag === TAG.BOOLEAN && content(first)[0] !== 0;
        break;
      }
      case OID.subjectKeyIdentifier:
        subjectKeyId = content(value).toString('hex');
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = children(value).find((c) => c.tag === 0x80);
        authorityKeyId = keyId ? content(keyId).toString('hex') : '';
        break;
      }
    }
  }
  const publicKeySha256 = sha256Hex(whole(spki));
  let x509: X509Certificate | undefined;
  const key = publicKey(whole(spki), publicKeySha256);
  return {
    tbs: whole(tbs),
    signature: content(signatureBits).subarray(1), // after the unused-bits octet
    signatureOid: sigOid,
    publicKey: key.object,
    get x509() {
      return (x509 ??= new X509Certificate(der));
    },
    subjectDer: whole(subject),
    issuerDer: whole(issuer),
    fields: {
      fingerprintSha256,
      subject: intern(formatName(subject)),
      issuer: intern(formatName(issuer)),
      serial: serialHex(content(serial)),
      dnsNames: san.dnsNames,
      ipAddresses: san.ipAddresses,
      emails: san.emails,
      uris: san.uris,
      notBefore: decodeTime(notBefore),
      notAfter: decodeTime(notAfter),
      keyAlgorithm: key.info.keyAlgorithm,
      keySize: key.info.keySize,
      keyCurve: key.info.keyCurve,
      signatureAlgorithm: SIGNATURE_ALGORITHMS[sigOid] ?? sigOid,
      isCa,
      subjectKeyId,
      authorityKeyId: intern(authorityKeyId),
      der,
      publicKeySha256: intern(publicKeySha256),
    },
  };
}

// Hosts hold many certificates for few keys (renewals keep keys, bundles repeat CAs): load and
// describe each public key once (OpenSSL 3.0 key decoding costs ~150 µs). Bounded; cleared when full.
const KEY_CACHE_LIMIT = 4096;
const keyCache = new Map<string, { object: KeyObject | undefined; info: KeyInfo }>();

function publicKey(spki: Buffer, spkiSha256: string): { object: KeyObject | undefined; info: KeyInfo } {
  let entry = keyCache.get(spkiSha256);
  if (!entry) {
    try {
      const object = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      entry = { object, info: describeKey(object) };
    } catch {
      entry = { object: undefined, info: { keyAlgorithm: decodeOid(children(children(readTlv(spki))[0])[0]), keySize: 0, keyCurve: '' } };
    }
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(spkiSha256, entry);
  }
  return entry;
}

// Issuer names, issuer key ids and public-key hashes repeat across a host's certificates; a scan
// keeps tens of thousands of findings, so equal strings share one copy. Bounded; cleared when full.
const INTERN_LIMIT = 16384;
const interned = new Map<string, string>();
function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size >= INTERN_LIMIT) interned.clear();
  interned.set(value, value);
  return value;
}

/** Hex of the INTEGER bytes minus the 00 that DER adds to keep a high bit positive (as OpenSSL prints). */
function serialHex(bytes: Buffer): string {
  return (bytes.length > 1 && bytes[0] === 0 && bytes[1] & 0x80 ? bytes.subarray(1) : bytes).toString('hex');
}

interface GeneralNames {
  dnsNames: string[];
  ipAddresses: string[];
  emails: string[];
  uris: string[];
}

// Most certificates have no IP, e-mail or URI names: they all share one frozen empty array rather
// than holding three empty arrays each. Non-empty lists are copied to their exact length (an array
// grown by push() keeps room for 17 elements).
const NO_NAMES = Object.freeze([]) as unknown as string[];

function readGeneralNames(names: Tlv, out: GeneralNames): void {
  const found: GeneralNames = { dnsNames: [], ipAddresses: [], emails: [], uris: [] };
  for (const name of children(names)) {
    const text = () => content(name).toString('utf8');
    switch (name.tag) {
      case 0x81:
        found.emails.push(text());
        break;
      case 0x82:
        found.dnsNames.push(text());
        break;
      case 0x86:
        found.uris.push(text());
        break;
      case 0x87:
        found.ipAddresses.push(formatIp(content(name)));
        break;
    }
  }
  out.dnsNames = found.dnsNames.length ? found.dnsNames.slice() : NO_NAMES;
  out.ipAddresses = found.ipAddresses.length ? found.ipAddresses.slice() : NO_NAMES;
  out.emails = found.emails.length ? found.emails.slice() : NO_NAMES;
  out.uris = found.uris.length ? found.uris.slice() : NO_NAMES;
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    const full = groups.join(':');
    // Compress the longest run of zero groups, as inet_ntop does.
    const runs = [...full.matchAll(/(?:^|:)0(?::0)+(?:$|:)/g)].sort((a, b) => b[0].length - a[0].length);
    const compressed = runs.length ? full.replace(runs[0][0], '::') : full;
    return isIP(compressed) ? compressed : full;
  }
  return bytes.toString('hex');
}

/** Empties the parse caches of this module (called through releaseDiscoveryCaches()). */
export function clearDescribeCaches(): void {
  parsedCache.clear();
  keyCache.clear();
  interned.clear();
}
