// Long-lived copies of certificate DER, packed into 64 KiB slabs that hold nothing else. Node's own
// small-buffer pool would mix them with short-lived buffers (file contents, decoded PEM, decrypted
// PKCS#12 bags), and one kept certificate would then keep its whole 8 KiB slab of garbage alive.
const SLAB_SIZE = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(0); // the first keepDer() allocates
let used = SLAB_SIZE;

export function keepDer(der: Buffer): Buffer {
  if (der.length > SLAB_SIZE / 4) return Buffer.from(Uint8Array.prototype.slice.call(der).buffer);
  if (used + der.length > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    used = 0;
  }
  const copy = slab.subarray(used, used + der.length);
  der.copy(copy);
  used += (der.length + 7) & ~7;
  return copy;
}

/** Lets go of the current slab: its space is used only by certificates already kept. */
export function releaseDerSlab(): void {
  slab = Buffer.allocUnsafeSlow(0);
  used = SLAB_SIZE;
}
