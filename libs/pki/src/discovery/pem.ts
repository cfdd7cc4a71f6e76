// PEM block splitting. Text before, between and after blocks is ignored (OpenSSL's behaviour), CRLF
// line ends and RFC 1421 headers (Proc-Type/DEK-Info of traditional encrypted keys) are accepted.

export interface PemBlock {
  label: string;
  /** The block as text, BEGIN to END lines (what crypto.createPrivateKey wants). */
  text: string;
  der: Buffer;
  /** RFC 1421 headers present (e.g. "Proc-Type: 4,ENCRYPTED"). */
  headers: string[];
}

export interface PemBlockError {
  label: string;
  reason: string;
}

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

export const hasPemMarker = (data: Buffer): boolean => data.includes('-----BEGIN ');

export function splitPem(text: string): { blocks: PemBlock[]; errors: PemBlockError[] } {
  const blocks: PemBlock[] = [];
  const errors: PemBlockError[] = [];
  BEGIN.lastIndex = 0;
  for (let m = BEGIN.exec(text); m; m = BEGIN.exec(text)) {
    const label = m[1];
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, BEGIN.lastIndex);
    const nextBegin = text.indexOf('-----BEGIN ', BEGIN.lastIndex);
    if (end < 0 || (nextBegin >= 0 && nextBegin < end)) {
      errors.push({ label, reason: `PEM block "${label}" has no END line (truncated file?)` });
      continue;
    }
    const lines = text.slice(BEGIN.lastIndex, end).split(/\r?\n/);
    const headers = lines.filter((line) => line.includes(':'));
    const body = lines.filter((line) => !line.includes(':')).join('');
    BEGIN.lastIndex = end + endMarker.length;
    if (!BASE64_BODY.test(body) || body.trim() === '') {
      errors.push({ label, reason: `PEM block "${label}" is not valid base64` });
      continue;
    }
    blocks.push({ label, text: text.slice(m.index, BEGIN.lastIndex), der: Buffer.from(body, 'base64'), headers });
  }
  return { blocks, errors };
}
