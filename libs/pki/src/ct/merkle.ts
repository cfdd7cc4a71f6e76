// RFC 6962 2.1.2 Merkle consistency proofs: that a log's larger tree extends the tree a monitor
// verified before, so the log cannot rewrite history it already showed. Verification as
// specified in RFC 9162 2.1.4.2 (the same proofs; 6962 gives only how to build them).
import { createHash } from 'node:crypto';
import { CtFormatError } from './tls-reader';

// Tree sizes go past 2^32, so no bitwise operators (they work on 32 bits).
function isPowerOfTwo(n: number): boolean {
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

const node = (left: Buffer, right: Buffer): Buffer => createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();

/**
 * Checks a get-sth-consistency proof from the tree of `first` entries (root `firstRoot`) to the
 * tree of `second` entries (root `secondRoot`); throws CtFormatError saying why it fails.
 */
export function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: readonly Buffer[]): void {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) throw new CtFormatError(`consistency proof: bad tree sizes ${first} → ${second}`);
  if ([firstRoot, secondRoot, ...proof].some((hash) => hash.length !== 32)) throw new CtFormatError('consistency proof: a hash is not 32 bytes');
  if (first === second) {
    if (proof.length || !firstRoot.equals(secondRoot)) throw new CtFormatError(`consistency proof: two different roots for the same tree of ${first} entries`);
    return;
  }
  // The empty tree is a prefix of every tree.
  if (first === 0) {
    if (proof.length) throw new CtFormatError('consistency proof: must be empty from the empty tree');
    return;
  }
  // A first tree of 2^k entries is a complete subtree of the second: the proof starts above it.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  if (!path.length) throw new CtFormatError('consistency proof: empty');
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) throw new CtFormatError('consistency proof: longer than the trees allow');
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = node(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new CtFormatError('consistency proof: shorter than the trees need');
  if (!fr.equals(firstRoot)) throw new CtFormatError(`consistency proof: does not lead to the root of the tree of ${first} entries`);
  if (!sr.equals(secondRoot)) throw new CtFormatError(`consistency proof: does not lead to the root of the tree of ${second} entries`);
}
