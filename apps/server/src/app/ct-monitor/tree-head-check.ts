// A log's new signed tree head must extend the last one the monitor verified (RFC 6962 2.1.2):
// otherwise the log is showing different histories to different people (a fork) and nothing it
// serves is read. One clear line says which check failed.
import { SignedTreeHead, verifyConsistency } from '@certfleet/pki';
import type { CtLogClient } from './ct-log-client';

export interface VerifiedTreeHead {
  treeSize: number;
  /** Base64; null before the first tree head was stored (logs polled before roots were kept). */
  rootHash: string | null;
}

/** Throws unless `sth` (its signature already verified) is consistent with `last`. */
export async function checkExtends(client: Pick<CtLogClient, 'getSthConsistency'>, last: VerifiedTreeHead, sth: SignedTreeHead): Promise<void> {
  if (sth.tree_size < last.treeSize) throw new Error(`tree head shrank from ${last.treeSize} to ${sth.tree_size} entries: not moving backwards`);
  // Nothing verified to compare with: this tree head becomes the first.
  if (last.rootHash === null) return;
  const oldRoot = Buffer.from(last.rootHash, 'base64');
  const newRoot = Buffer.from(sth.sha256_root_hash, 'base64');
  if (sth.tree_size === last.treeSize) {
    if (!newRoot.equals(oldRoot)) throw new Error(`inconsistent tree head: root ${sth.sha256_root_hash} for ${sth.tree_size} entries, but the verified tree of that size has root ${last.rootHash} (the log rewrote its history); refused`);
    return;
  }
  // The empty tree is a prefix of every tree.
  if (last.treeSize === 0) return;
  const proof = await client.getSthConsistency(last.treeSize, sth.tree_size);
  try {
    verifyConsistency(last.treeSize, sth.tree_size, oldRoot, newRoot, proof);
  } catch (error) {
    throw new Error(`inconsistent tree head: the tree of ${sth.tree_size} entries is not proven to extend the verified tree of ${last.treeSize} (${(error as Error).message}); refused`);
  }
}
