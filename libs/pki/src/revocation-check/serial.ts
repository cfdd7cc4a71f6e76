// One spelling of a serial number for map keys: lowercase hex of the INTEGER's content bytes with
// leading zero bytes removed, so a DER sign byte (or a non-minimal encoding) does not change it.
export function serialKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  while (start < end - 1 && bytes[start] === 0) start++;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString('hex', start, end);
}
