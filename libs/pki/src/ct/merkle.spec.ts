// Merkle consistency proofs against the published RFC 6962 test vectors (transparency-dev/merkle
// testonly: leaves, roots and proofs, used as data), then against every pair of sizes of a larger
// tree built by the test log's own RFC 6962 2.1.2 proof generator, tampered in every way.
import { createHash } from 'node:crypto';
import { verifyConsistency } from './merkle';
import { consistencyProof, merkleTreeHash } from './testing/ct-encoding';

const h = (hex: string) => Buffer.from(hex, 'hex');
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
/** Root of the tree of the first i + 1 leaves. */
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);
const PROOFS: Array<[number, number, string[]]> = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];

/** Every way a proof can be wrong that a verifier must catch. */
function corruptions(proof: Buffer[], root1: Buffer, root2: Buffer): Array<[string, Buffer[]]> {
  const flipped = proof.map((_, i) => {
    const copy = proof.map((p) => Buffer.from(p));
    copy[i][0] ^= 0x10;
    return [`proof[${i}] changed`, copy] as [string, Buffer[]];
  });
  return [
    ['empty', []],
    ['truncated', proof.slice(0, -1)],
    ['extra hash at the end', [...proof, root1]],
    ['extra hash in front', [root2, ...proof]],
    ['first hash repeated', [proof[0], ...proof]],
    ...flipped,
  ];
}

function accepts(attempt: () => void): boolean {
  try {
    attempt();
    return true;
  } catch {
    return false;
  }
}

describe('verifyConsistency', () => {
  it('the test log builds the published trees and proofs, and they verify', () => {
    for (let n = 1; n <= 8; n++) expect(merkleTreeHash(LEAVES.slice(0, n))).toEqual(ROOTS[n - 1]);
    expect(merkleTreeHash([])).toEqual(createHash('sha256').digest());
    for (const [first, second, proof] of PROOFS) {
      expect(consistencyProof(LEAVES.slice(0, second), first).map((b) => b.toString('hex'))).toEqual(proof);
      expect(() => verifyConsistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof.map(h))).not.toThrow();
    }
  });

  it('refuses the published proofs with wrong sizes, wrong roots or any change to the proof', () => {
    for (const [first, second, hexProof] of PROOFS.filter(([, , p]) => p.length)) {
      const proof = hexProof.map(h);
      const [r1, r2] = [ROOTS[first - 1], ROOTS[second - 1]];
      const wrong: Array<[string, () => void]> = [
        ['first - 1', () => verifyConsistency(first - 1, second, r1, r2, proof)],
        ['first + 1', () => verifyConsistency(first + 1, second, r1, r2, proof)],
        ['second * 2', () => verifyConsistency(first, second * 2, r1, r2, proof)],
        ['second / 2', () => verifyConsistency(first, Math.floor(second / 2), r1, r2, proof)],
        ['roots swapped', () => verifyConsistency(first, second, r2, r1, proof)],
        ['another first root', () => verifyConsistency(first, second, ROOTS[0].equals(r1) ? ROOTS[1] : ROOTS[0], r2, proof)],
        ['another second root', () => verifyConsistency(first, second, r1, ROOTS[2], proof)],
        ...corruptions(proof, r1, r2).map(([what, bad]) => [what, () => verifyConsistency(first, second, r1, r2, bad)] as [string, () => void]),
      ];
      expect(wrong.filter(([, attempt]) => accepts(attempt)).map(([what]) => `${first}→${second}: ${what}`)).toEqual([]);
    }
  });

  it('every pair of sizes of a 40-leaf tree: the proof verifies and no corruption of it does', () => {
    const leaves = Array.from({ length: 40 }, (_, i) => Buffer.from(`leaf ${i}`));
    const roots = Array.from({ length: 41 }, (_, n) => merkleTreeHash(leaves.slice(0, n)));
    let checked = 0;
    for (let second = 1; second <= leaves.length; second++) {
      for (let first = 1; first <= second; first++) {
        const proof = consistencyProof(leaves.slice(0, second), first);
        expect(() => verifyConsistency(first, second, roots[first], roots[second], proof)).not.toThrow();
        const bad = first < second ? corruptions(proof, roots[first], roots[second]) : [];
        expect(bad.filter(([, wrong]) => accepts(() => verifyConsistency(first, second, roots[first], roots[second], wrong))).map(([what]) => `${first}→${second}: ${what}`)).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBe((40 * 41) / 2);
  });

  it('same size: equal roots and no proof; from the empty tree: no proof; never backwards', () => {
    expect(() => verifyConsistency(5, 5, ROOTS[4], ROOTS[4], [])).not.toThrow();
    expect(() => verifyConsistency(5, 5, ROOTS[4], ROOTS[5], [])).toThrow('two different roots for the same tree of 5 entries');
    expect(() => verifyConsistency(0, 8, createHash('sha256').digest(), ROOTS[7], [])).not.toThrow();
    expect(() => verifyConsistency(0, 8, createHash('sha256').digest(), ROOTS[7], [ROOTS[0]])).toThrow('must be empty');
    expect(() => verifyConsistency(8, 6, ROOTS[7], ROOTS[5], [])).toThrow('bad tree sizes 8 → 6');
    expect(() => verifyConsistency(6, 8, ROOTS[5], ROOTS[7], [Buffer.alloc(31)])).toThrow('not 32 bytes');
  });

  it('handles tree sizes beyond 32 bits (no bitwise arithmetic on sizes)', () => {
    // 2^32 + 1 entries after 2^32: the first tree is the left 2^32 subtree, so the proof is the one
    // right leaf: the second root is node(first root, that leaf).
    const first = 2 ** 32;
    const left = createHash('sha256').update('left').digest();
    const rightLeaf = createHash('sha256').update('right').digest();
    const second = createHash('sha256').update(Buffer.from([1])).update(left).update(rightLeaf).digest();
    expect(() => verifyConsistency(first, first + 1, left, second, [rightLeaf])).not.toThrow();
    expect(() => verifyConsistency(first - 1, first + 1, left, second, [rightLeaf])).toThrow('consistency proof');
  });
});
