// Pairs certificates with private keys by public-key hash: a key in the same file wins, otherwise
// any key found by the scan. Fills `pairedKey` on certificates and `paired` on keys, in place.
import { DiscoveredCertificate, DiscoveredPrivateKey } from './types';

export function pairKeys(certificates: DiscoveredCertificate[], privateKeys: DiscoveredPrivateKey[]): void {
  // First key per public key, and first key per (public key, file): a host may hold hundreds of
  // certificates for one key, so candidates are looked up, not searched.
  const anyFile = new Map<string, DiscoveredPrivateKey>();
  const sameFile = new Map<string, DiscoveredPrivateKey>();
  for (const key of privateKeys) {
    if (!key.publicKeySha256) continue; // encrypted and not opened: nothing to match on
    if (!anyFile.has(key.publicKeySha256)) anyFile.set(key.publicKeySha256, key);
    const local = `${key.publicKeySha256}\0${key.file?.path}`;
    if (!sameFile.has(local)) sameFile.set(local, key);
  }
  for (const cert of certificates) {
    const first = anyFile.get(cert.publicKeySha256);
    if (!first) continue;
    const certPath = cert.file?.path;
    const key = sameFile.get(`${cert.publicKeySha256}\0${certPath}`) ?? first;
    key.paired = true;
    cert.pairedKey = {
      path: key.file?.path ?? '',
      mode: key.file?.mode ?? 0,
      owner: key.file?.owner ?? '',
      sameFile: key.file?.path === certPath,
    };
  }
}
