import { createHash } from 'node:crypto';
import type { InventoryItem } from '@certfleet/proto';
import type { DiscoveredCertificate, DiscoveredPrivateKey, DiscoveryProblem } from '@certfleet/pki';

// Keys are stored in a varchar(2048) primary key on the server; very long paths are hashed.
const MAX_KEY_LENGTH = 1024;

function boundedKey(key: string): string {
  return key.length <= MAX_KEY_LENGTH ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** location + SHA-256 fingerprint: a certificate replaced in place is a removal plus an addition. */
export function certificateKey(c: DiscoveredCertificate): string {
  return boundedKey(`cert:${c.file?.path ?? ''}#${c.entry}|${c.fingerprintSha256}`);
}

/** Converts one scan's findings into inventory items, keyed for diffing. */
export function toInventoryItems(scan: {
  certificates: DiscoveredCertificate[];
  privateKeys: DiscoveredPrivateKey[];
  problems: DiscoveryProblem[];
}): InventoryItem[] {
  const items: InventoryItem[] = [];
  for (const c of scan.certificates) {
    const { publicKeySha256: _internal, ...finding } = c;
    items.push({ key: certificateKey(c), item: { $case: 'certificate', value: finding } });
  }
  const keyIndex = new Map<string, number>();
  for (const k of scan.privateKeys) {
    const path = k.file?.path ?? '';
    const n = keyIndex.get(path) ?? 0;
    keyIndex.set(path, n + 1);
    items.push({ key: boundedKey(`key:${path}#${n}`), item: { $case: 'privateKey', value: k } });
  }
  for (const p of scan.problems) {
    items.push({ key: boundedKey(`problem:${p.path}|${p.kind}`), item: { $case: 'problem', value: p } });
  }
  return items;
}
