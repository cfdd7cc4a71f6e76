import { randomBytes } from 'node:crypto';
import { explicit, objectIdentifier, octetString, sequence, smallInteger, TAG, tlv } from '../der/der';
import { OcspRequestError, parseOcspRequest } from './ocsp-request';

// Requests built by hand (openssl cannot make most of these), so each rule is tested on its own.
const SHA1 = sequence([objectIdentifier('1.3.14.3.2.26'), Buffer.from([TAG.NULL, 0])]);
const SHA256_NO_PARAMS = sequence([objectIdentifier('2.16.840.1.101.3.4.2.1')]);
const NONCE = objectIdentifier('1.3.6.1.5.5.7.48.1.2');
const CRITICAL = Buffer.from([TAG.BOOLEAN, 1, 0xff]);

const certId = ({ algorithm = SHA1, hashLength = 20, serial = tlv(TAG.INTEGER, [Buffer.from('0a1b2c', 'hex')]) } = {}) =>
  sequence([algorithm, octetString(Buffer.alloc(hashLength, 1)), octetString(Buffer.alloc(hashLength, 2)), serial]);
const nonceExtension = (value: Buffer, critical = false) => sequence(critical ? [NONCE, CRITICAL, octetString(value)] : [NONCE, octetString(value)]);

function request({ ids = [certId()], extensions, prefix = [], signature }: { ids?: Buffer[]; extensions?: Buffer[]; prefix?: Buffer[]; signature?: Buffer } = {}): Buffer {
  const tbs = sequence([...prefix, sequence(ids.map((id) => sequence([id]))), ...(extensions ? [explicit(2, sequence(extensions))] : [])]);
  return sequence(signature ? [tbs, signature] : [tbs]);
}

/** Runs the parser; returns 'ok' or the OcspRequestError status, and fails the test on any other throw. */
function outcome(input: unknown, limits?: { maxCertIds?: number }): string {
  try {
    parseOcspRequest(input as Buffer, limits);
    return 'ok';
  } catch (error) {
    if (!(error instanceof OcspRequestError)) throw new Error(`threw ${String(error)} instead of OcspRequestError`);
    expect(error.message.length).toBeLessThan(200);
    return error.status;
  }
}

describe('parseOcspRequest on hand-made and hostile input', () => {
  it('reads a minimal valid request, and the shapes RFC 6960 allows around it', () => {
    expect(parseOcspRequest(request()).certIds).toEqual([expect.objectContaining({ hash: 'sha1', serialHex: '0a1b2c' })]);
    expect(parseOcspRequest(request({ ids: [certId({ algorithm: SHA256_NO_PARAMS, hashLength: 32 })] })).certIds[0].hash).toBe('sha256');
    // version v1 written out, a requestorName, unknown non-critical extensions, a signature: all fine.
    const version = explicit(0, smallInteger(0));
    const requestorName = explicit(1, tlv(0x82, [Buffer.from('client.example.test')]));
    const other = sequence([objectIdentifier('1.3.6.1.5.5.7.48.1.4'), octetString(sequence([objectIdentifier('1.3.6.1.5.5.7.48.1.1')]))]);
    const signature = explicit(0, sequence([sequence([objectIdentifier('1.2.840.10045.4.3.2')]), tlv(TAG.BIT_STRING, [Buffer.from([0, 1, 2])])]));
    const parsed = parseOcspRequest(request({ prefix: [version, requestorName], extensions: [other, nonceExtension(octetString(Buffer.alloc(32, 7)))], signature }));
    expect(parsed.nonce).toEqual(octetString(Buffer.alloc(32, 7)));
    // Serials: the sign byte is dropped, as in leaf serialHex; zero is kept as "00".
    const serial = (hex: string) => parseOcspRequest(request({ ids: [certId({ serial: tlv(TAG.INTEGER, [Buffer.from(hex, 'hex')]) })] })).certIds[0].serialHex;
    expect([serial('00ff'), serial('7f'), serial('00'), serial('00' + 'ab'.repeat(20))]).toEqual(['ff', '7f', '00', 'ab'.repeat(20)]);
    // Up to 128 nonce bytes and exactly maxCertIds CertIDs are accepted.
    expect(parseOcspRequest(request({ extensions: [nonceExtension(Buffer.alloc(128, 1))] })).nonce).toHaveLength(128);
    expect(parseOcspRequest(request({ ids: Array.from({ length: 100 }, () => certId()) })).certIds).toHaveLength(100);
    expect(parseOcspRequest(request({ ids: Array.from({ length: 150 }, () => certId()) }), { maxCertIds: 150 }).certIds).toHaveLength(150);
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0), /truncated/],
    ['trailing garbage', Buffer.concat([request(), Buffer.from([0])]), /1 trailing bytes/],
    ['a wrong outer tag', Buffer.from([0x31, ...request().subarray(1)]), /OCSPRequest: expected tag 0x30/],
    ['an oversized nonce (129 bytes)', request({ extensions: [nonceExtension(Buffer.alloc(129, 1))] }), /nonce of 129 bytes/],
    ['an empty nonce', request({ extensions: [nonceExtension(Buffer.alloc(0))] }), /nonce of 0 bytes/],
    ['two nonces', request({ extensions: [nonceExtension(Buffer.alloc(16, 1)), nonceExtension(Buffer.alloc(16, 2))] }), /repeated extension/],
    ['101 CertIDs (default limit 100)', request({ ids: Array.from({ length: 101 }, () => certId()) }), /more than 100 CertIDs/],
    ['no CertID', request({ ids: [] }), /empty requestList/],
    ['an unknown hash algorithm (MD5)', request({ ids: [certId({ algorithm: sequence([objectIdentifier('1.2.840.113549.2.5'), Buffer.from([TAG.NULL, 0])]) })] }), /unsupported CertID hash algorithm/],
    ['a hash of the wrong length', request({ ids: [certId({ hashLength: 32 })] }), /must be 20 bytes for sha1/],
    ['hash parameters other than NULL', request({ ids: [certId({ algorithm: sequence([objectIdentifier('1.3.14.3.2.26'), smallInteger(1)]) })] }), /parameters must be absent or NULL/],
    ['a negative serial', request({ ids: [certId({ serial: tlv(TAG.INTEGER, [Buffer.from([0x80])]) })] }), /negative serialNumber/],
    ['a non-minimal serial', request({ ids: [certId({ serial: tlv(TAG.INTEGER, [Buffer.from([0, 1])]) })] }), /non-minimal serialNumber/],
    ['an empty serial', request({ ids: [certId({ serial: tlv(TAG.INTEGER, []) })] }), /empty serialNumber/],
    ['a 22-octet serial', request({ ids: [certId({ serial: tlv(TAG.INTEGER, [Buffer.alloc(22, 0x11)]) })] }), /longer than 20 octets/],
    ['a serial that is not an INTEGER', request({ ids: [certId({ serial: octetString(Buffer.from([1])) })] }), /serialNumber: expected tag 0x2/],
    ['version 2', request({ prefix: [explicit(0, smallInteger(1))] }), /only v1/],
    ['an unknown critical request extension', request({ extensions: [sequence([objectIdentifier('1.2.3.4'), CRITICAL, octetString(Buffer.from([5, 0]))])] }), /unsupported critical request extension/],
    ['a critical flag that is not a boolean', request({ extensions: [sequence([NONCE, smallInteger(1), octetString(octetString(Buffer.alloc(8)))])] }), /critical: expected tag 0x1/],
    ['something after the signature', sequence([sequence([sequence([sequence([certId()])])]), explicit(0, sequence([])), sequence([])]), /after optionalSignature/],
    ['a signature that is not [0]', sequence([sequence([sequence([sequence([certId()])])]), explicit(1, sequence([]))]), /optionalSignature: expected tag 0xa0/],
    ['a CertID with a fifth field', request({ ids: [sequence([SHA1, octetString(Buffer.alloc(20)), octetString(Buffer.alloc(20)), smallInteger(1), smallInteger(2)])] }), /CertID must have 4 fields/],
    ['a length that runs past the end', Buffer.from([0x30, 0x83, 0xff, 0xff, 0xff, 0x30, 0x00]), /truncated/],
    ['an indefinite (BER) length', Buffer.from([0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00]), /indefinite length/],
    ['a 5-byte length', Buffer.from([0x30, 0x84, 0x00, 0x00, 0x00, 0x02, 0x30, 0x00]), /length too large/],
    ['a non-minimal length', Buffer.from([0x30, 0x81, 0x02, 0x30, 0x00]), /non-minimal length/],
    ['a multi-byte tag', Buffer.from([0x3f, 0x81, 0x00, 0x00]), /multi-byte tags/],
  ] as [string, Buffer, RegExp][])('refuses %s as malformedRequest', (_name, der, reason) => {
    expect(outcome(der)).toBe('malformedRequest');
    expect(() => parseOcspRequest(der)).toThrow(reason);
  });

  it('refuses non-bytes, a 1 MB buffer and a 1 MB well-formed request without reading them through', () => {
    for (const input of [undefined, null, 'MEUwQzBBMD8wPTAJBgUrDgMCGgUABBQ', 42, {}, [0x30, 0x00]]) expect(outcome(input)).toBe('malformedRequest');
    expect(outcome(Buffer.alloc(1024 * 1024))).toBe('malformedRequest');
    const huge = request({ prefix: [explicit(1, octetString(Buffer.alloc(1024 * 1024)))] });
    expect(huge.length).toBeGreaterThan(1024 * 1024);
    expect(() => parseOcspRequest(huge)).toThrow(/malformed OCSP request: \d+ bytes, more than the \d+ allowed/);
    // A Uint8Array (not a Buffer) is read the same as a Buffer.
    const plain = new Uint8Array(request());
    expect(parseOcspRequest(plain as Buffer).certIds[0].serialHex).toBe('0a1b2c');
  });

  it('refuses nested-length bombs: thousands of nested SEQUENCEs and lengths that claim more than exists', () => {
    let nested = sequence([]);
    for (let i = 0; i < 5000; i++) nested = sequence([nested]);
    expect(outcome(nested)).toBe('malformedRequest');
    let wrappedInTbs = certId();
    for (let i = 0; i < 5000; i++) wrappedInTbs = sequence([wrappedInTbs]);
    expect(outcome(sequence([wrappedInTbs]))).toBe('malformedRequest');
    // Every inner length claims 16 MiB: each must be found to overrun its parent.
    const claims = Buffer.concat(Array.from({ length: 1000 }, () => Buffer.from([0x30, 0x83, 0xff, 0xff, 0xff])));
    expect(outcome(claims)).toBe('malformedRequest');
    expect(outcome(Buffer.concat([Buffer.from([0x30, 0x82, 0x13, 0x88]), claims]))).toBe('malformedRequest');
  });

  it('throws only OcspRequestError(malformedRequest) for random bytes, every truncation, and byte mutations', () => {
    const valid = request({ extensions: [nonceExtension(octetString(randomBytes(16)))], signature: explicit(0, sequence([sequence([objectIdentifier('1.2.840.10045.4.3.2')]), tlv(TAG.BIT_STRING, [Buffer.from([0, 9])])])) });
    const seen = new Map<string, number>();
    const count = (result: string) => seen.set(result, (seen.get(result) ?? 0) + 1);
    for (let i = 0; i < 3000; i++) count(outcome(randomBytes(i % 400)));
    // Random bytes that start like a request (outer SEQUENCE with a fitting length) go deeper.
    for (let i = 0; i < 3000; i++) {
      const body = randomBytes(i % 120);
      count(outcome(Buffer.concat([Buffer.from([0x30, body.length]), body])));
    }
    for (let length = 0; length < valid.length; length++) expect(outcome(valid.subarray(0, length))).toBe('malformedRequest');
    for (let at = 0; at < valid.length; at++) {
      for (const value of [0x00, 0x01, 0x30, 0x7f, 0x80, 0x81, 0x84, 0xa0, 0xff, valid[at] ^ 0x01]) {
        const mutated = Buffer.from(valid);
        mutated[at] = value;
        count(outcome(mutated));
        count(outcome(Buffer.concat([valid.subarray(0, at), Buffer.from([value]), valid.subarray(at)])));
      }
    }
    // Mutations inside hashes, serials or the ignored signature can still be valid requests.
    expect([...seen.keys()].sort()).toEqual(['malformedRequest', 'ok']);
    expect(seen.get('malformedRequest')).toBeGreaterThan(seen.get('ok')!);
  });

  it('refuses nonsense limits (a caller error, not a request error)', () => {
    expect(() => parseOcspRequest(request(), { maxCertIds: 0 })).toThrow(RangeError);
    expect(() => parseOcspRequest(request(), { maxCertIds: 1.5 })).toThrow(RangeError);
  });
});
