// GeneralizedTime "YYYYMMDDHHMMSSZ" (seconds precision, no fraction: RFC 5280 4.1.2.5.2 style, which
// OCSP clients expect too). der.ts x509Time switches to UTCTime before 2050, which OCSP does not allow.
import { TAG } from '../der/der';

const DIGIT_0 = 0x30;

function put(out: Buffer, offset: number, value: number, digits: number): void {
  for (let i = offset + digits - 1; i >= offset; i--) {
    out[i] = DIGIT_0 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** GeneralizedTime TLV for `date`, milliseconds dropped. Throws RangeError for an invalid date. */
export function generalizedTime(date: Date): Buffer {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new RangeError('not a valid date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} cannot be encoded as GeneralizedTime`);
  const out = Buffer.allocUnsafe(17);
  out[0] = TAG.GENERALIZED_TIME;
  out[1] = 15;
  put(out, 2, year, 4);
  put(out, 6, date.getUTCMonth() + 1, 2);
  put(out, 8, date.getUTCDate(), 2);
  put(out, 10, date.getUTCHours(), 2);
  put(out, 12, date.getUTCMinutes(), 2);
  put(out, 14, date.getUTCSeconds(), 2);
  out[16] = 0x5a; // 'Z'
  return out;
}
