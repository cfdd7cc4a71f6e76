// A cursor over TLS presentation-language encodings (RFC 5246 4): big-endian integers and
// length-prefixed vectors, as CT uses for SCTs, Merkle tree leaves and tree head signatures.

export class CtFormatError extends Error {}

export class TlsReader {
  private pos = 0;
  constructor(private readonly buf: Buffer, private readonly what: string) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  uint(bytes: 1 | 2 | 3 | 8): number {
    this.need(bytes);
    let value = 0;
    for (let i = 0; i < bytes; i++) value = value * 256 + this.buf[this.pos + i];
    this.pos += bytes;
    if (!Number.isSafeInteger(value)) throw new CtFormatError(`${this.what}: integer too large`);
    return value;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A vector with a `prefix`-byte length. */
  vector(prefix: 1 | 2 | 3): Buffer {
    return this.bytes(this.uint(prefix));
  }

  end(): void {
    if (this.remaining) throw new CtFormatError(`${this.what}: ${this.remaining} unexpected trailing byte(s)`);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new CtFormatError(`${this.what}: truncated (needs ${n} more byte(s) at offset ${this.pos})`);
  }
}
