// Pairs certificates with private keys by public-key hash: a key in the same file wins, otherwise
// any key found by the scan. Fills `pairedKey` on certificates and `paired` on keys, in place.
import { DiscoveredCertificate, DiscoveredPrivateKey } from './types';

export function pairKeys(certificates: DiscoveredCertificate[], privateKeys: DiscoveredPrivateKey[]): void {
  const byPublicKey = new Map<string, DiscoveredPrivateKey[]>();
  for (const key of privateKeys) {
    if (!key.publicKeySha256) continue; // encrypted and not opened: nothing to match on
    const list = byPublicKey.get(key.publicKeySha256);
    if (list) list.push(key);
    else byPublicKey.set(key.publicKeySha256, [key]);
  }
  for (const cert of certificates) {
    const candidates = byPublicKey.get(cert.publicKeySha256);
    if (!candidates) continue;
    const certPath = cert.file?.path;
    const key = candidates.find((k) => k.file?.path === certPath) ?? candidates[0];
    key.paired = true;
    cert.pairedKey = {
      path: key.file?.path ?? '',
      mode: key.file?.mode ?? 0,
      owner: key.file?.owner ?? '',
      sameFile: key.file?.path === certPath,
    };
  }
}
