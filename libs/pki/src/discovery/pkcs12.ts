// PKCS#12 (.p12/.pfx, also Java "PKCS12" keystores). The password is found by trying "none", "",
// then each configured password on the cheapest protected part (an encrypted SafeContents, else a
// shrouded key, else the MAC). Once contents decrypt and parse, the MAC is not checked as well:
// its legacy key derivation costs ~4 ms per file in JavaScript, more than the rest of the file.
import { createPrivateKey } from 'node:crypto';
import { TAG, Tlv, children, content, decodeOid, decodeSmallInteger, decodeString, expectTag, octets, readTlv } from './asn1-reader';
import { buildCertificates, CertificateEntry } from './certificate-set';
import { OID } from './oids';
import { Password, UnsupportedAlgorithmError, isPbes2, pbeDecrypt, unsupportedReason, verifyMac } from './pkcs12-crypto';
import { keyFinding, lockedKeyFinding } from './private-key';
import { DiscoveredFileInfo, DiscoveredPrivateKey, DiscoveryProblem, FileReadResult } from './types';

const BAG = {
  key: '1.2.840.113549.1.12.10.1.1',
  shroudedKey: '1.2.840.113549.1.12.10.1.2',
  cert: '1.2.840.113549.1.12.10.1.3',
  safeContents: '1.2.840.113549.1.12.10.1.6',
};
const FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const X509_CERT_TYPE = '1.2.840.113549.1.9.22.1';

/** PFX shape: SEQUENCE { INTEGER 3, ContentInfo { data ... }, ... }. */
export function looksLikePkcs12(der: Buffer): boolean {
  try {
    const [version, authSafe] = children(readTlv(der));
    return version.tag === TAG.INTEGER && decodeSmallInteger(version) === 3 && decodeOid(children(authSafe)[0]) === OID.pkcs7Data;
  } catch {
    return false;
  }
}

interface Encrypted {
  algorithm: Tlv;
  data: Buffer;
}

export function readPkcs12(data: Buffer, path: string, passwords: string[], file: DiscoveredFileInfo | undefined): FileReadResult {
  const problems: DiscoveryProblem[] = [];
  const result: FileReadResult = { isCertificateFile: true, format: 'pkcs12', certificates: [], privateKeys: [], problems };
  const problem = (kind: DiscoveryProblem['kind'], reason: string) => problems.push({ path, kind, reason, format: 'pkcs12' });
  try {
    const [, authSafeInfo, macData] = children(readTlv(data));
    const authSafe = octets(children(expectTag(children(authSafeInfo)[1], 0xa0, 'authSafe content'))[0]);
    const contentInfos = children(readTlv(authSafe)).map((info) => {
      const [type, explicit] = children(info);
      return { type: decodeOid(type), body: children(explicit)[0] };
    });
    const encryptedParts: Encrypted[] = contentInfos
      .filter((c) => c.type === OID.pkcs7EncryptedData)
      .map((c) => {
        const [, encryptedContentInfo] = children(c.body);
        const [, algorithm, ciphertext] = children(encryptedContentInfo);
        return { algorithm, data: octets(ciphertext) };
      });
    const plainBags = contentInfos.filter((c) => c.type === OID.pkcs7Data).flatMap((c) => safeBags(octets(c.body)));

    let password: Password | undefined;
    const candidates = withLastMatchFirst([null, '', ...passwords]);
    const triedMsg = `none of ${passwords.length} configured password(s), nor an empty password, opens it`;
    let unsupported: string | undefined;
    const probe = (test: (pw: Password) => boolean, pbes2: boolean) =>
      candidates.filter((pw) => !(pbes2 && pw === null)).find((pw) => { try { return test(pw); } catch (e) { if (e instanceof UnsupportedAlgorithmError) { unsupported = e.message; throw e; } return false; } });
    const decryptable = encryptedParts.find((part) => !unsupportedReason(part.algorithm));
    const opened = new Map<Encrypted, SafeBag[]>(); // parts the password search already decrypted
    const shrouded = plainBags.find((bag) => bag.type === BAG.shroudedKey);
    try {
      if (decryptable) password = probe((pw) => !!opened.set(decryptable, safeBags(pbeDecrypt(decryptable.algorithm, decryptable.data, pw))), isPbes2(decryptable.algorithm));
      else if (shrouded) password = probe((pw) => { createPrivateKey({ key: shroudedDer(shrouded), format: 'der', type: 'pkcs8', passphrase: pw ?? '' }); return true; }, false);
      else if (macData) password = probe((pw) => verifyMac(macData, authSafe, pw), false);
      else password = null;
    } catch {
      password = undefined;
    }
    if (password !== undefined) lastMatch = password;
    if (password === undefined) {
      if (unsupported) problem('unsupported', `PKCS#12: ${unsupported}`);
      else problem('locked', `PKCS#12 file is password-protected and ${triedMsg}`);
      return result;
    }

    const bags = [...plainBags];
    for (const part of encryptedParts) {
      try {
        bags.push(...(opened.get(part) ?? safeBags(pbeDecrypt(part.algorithm, part.data, password))));
      } catch (error) {
        if (error instanceof UnsupportedAlgorithmError) problem('unsupported', `PKCS#12 certificates could not be decrypted: ${error.message}`);
        else problem('locked', `PKCS#12 part encrypted with another password: ${triedMsg}`);
      }
    }
    const entries: CertificateEntry[] = [];
    for (const bag of bags) {
      const name = bag.friendlyName === undefined ? '' : `:${bag.friendlyName}`;
      if (bag.type === BAG.cert) {
        const [certType, value] = children(bag.value);
        if (decodeOid(certType) === X509_CERT_TYPE) entries.push({ der: octets(children(value)[0]), entry: `${entries.length}${name}` });
      } else if (bag.type === BAG.key || bag.type === BAG.shroudedKey) {
        result.privateKeys.push(readKeyBag(bag, password, file));
      }
    }
    result.certificates = buildCertificates(entries, 'pkcs12', path, file, problems);
  } catch (error) {
    problem('corrupt', `PKCS#12 structure does not decode (${(error as Error).message})`);
  }
  return result;
}

// Files of one host tend to share a password. Trying the one that matched last first changes only
// the cost (one PBKDF2 run per wrong guess), not the outcome: only the right password decrypts.
let lastMatch: Password | undefined;
function withLastMatchFirst(candidates: Password[]): Password[] {
  return lastMatch === undefined || !candidates.includes(lastMatch) ? candidates : [lastMatch, ...candidates.filter((c) => c !== lastMatch)];
}

interface SafeBag {
  type: string;
  value: Tlv;
  friendlyName?: string;
}

function safeBags(safeContents: Buffer): SafeBag[] {
  return children(expectTag(readTlv(safeContents), TAG.SEQUENCE, 'SafeContents')).flatMap((bag): SafeBag[] => {
    const [type, explicitValue, attributes] = children(bag);
    const oid = decodeOid(type);
    const value = children(explicitValue)[0];
    if (oid === BAG.safeContents) return safeBags(Buffer.from(value.buf.subarray(value.start, value.end)));
    const friendly = attributes && children(attributes).find((a) => decodeOid(children(a)[0]) === FRIENDLY_NAME);
    return [{ type: oid, value, friendlyName: friendly ? decodeString(children(children(friendly)[1])[0]) : undefined }];
  });
}

const shroudedDer = (bag: SafeBag): Buffer => bag.value.buf.subarray(bag.value.start, bag.value.end);

function readKeyBag(bag: SafeBag, password: Password, file: DiscoveredFileInfo | undefined): DiscoveredPrivateKey {
  const der = shroudedDer(bag);
  const encrypted = bag.type === BAG.shroudedKey;
  try {
    const key = encrypted
      ? createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase: password ?? '' })
      : createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return keyFinding(key, encrypted, file);
  } catch {
    return lockedKeyFinding(file);
  }
}
