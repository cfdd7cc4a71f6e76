import { MAX_CSR_BYTES, parseCsr, verifyCsr } from './csr';
import { CsrRejectedError } from './errors';
import { EC_P256, OpensslDir } from './openssl-test-kit';

const dir = new OpensslDir();
afterAll(() => dir.remove());

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

async function rejection(input: string | Uint8Array): Promise<CsrRejectedError> {
  const error = await verifyCsr(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CsrRejectedError);
  return error as CsrRejectedError;
}

describe('verifyCsr accepts the allowed key types from openssl req', () => {
  it.each([
    ['EC P-256', EC_P256, { keyAlgorithm: 'EC', keySize: 256, curve: 'P-256', signatureAlgorithm: 'ECDSA with SHA-256' }],
    ['EC P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1', '-sha384'], { keyAlgorithm: 'EC', keySize: 384, curve: 'P-384', signatureAlgorithm: 'ECDSA with SHA-384' }],
    ['EC P-521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp521r1', '-sha512'], { keyAlgorithm: 'EC', keySize: 521, curve: 'P-521', signatureAlgorithm: 'ECDSA with SHA-512' }],
    ['RSA 2048', ['-newkey', 'rsa:2048'], { keyAlgorithm: 'RSA', keySize: 2048, signatureAlgorithm: 'RSASSA-PKCS1-v1_5 with SHA-256' }],
    ['RSA 2048 with PSS', ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss'], { keyAlgorithm: 'RSA', keySize: 2048, signatureAlgorithm: 'RSA-PSS with SHA-256' }],
    ['Ed25519', ['-newkey', 'ed25519'], { keyAlgorithm: 'Ed25519', keySize: 256, signatureAlgorithm: 'Ed25519' }],
  ])('%s', async (name, keyArgs, expected) => {
    const pem = dir.makeCsr(name.replace(/\W/g, '_'), keyArgs);
    const parsed = await verifyCsr(pem);
    expect(parsed).toMatchObject(expected);
    expect(parsed.requestedSubject).toBe('CN=ignored-by-ca');
    expect(parsed.der.equals(derOf(pem))).toBe(true);
    expect(parsed.publicKeySpki.equals(derOf(dir.run('req', '-in', `${name.replace(/\W/g, '_')}.csr`, '-noout', '-pubkey')))).toBe(true);
  });

  it('accepts DER bytes as well as PEM', async () => {
    const pem = dir.makeCsr('der', EC_P256);
    await expect(verifyCsr(derOf(pem))).resolves.toMatchObject({ keyAlgorithm: 'EC', curve: 'P-256' });
  });
});

describe('verifyCsr rejects hostile or bad input with the reason', () => {
  it('a tampered signature', async () => {
    const der = derOf(dir.makeCsr('sig', EC_P256));
    der[der.length - 1] ^= 0x01; // last byte of the ECDSA "s" value
    expect((await rejection(der)).reason).toMatch(/signature does not verify/);
  });

  it('a tampered body (subject changed after signing)', async () => {
    const der = derOf(dir.makeCsr('body', EC_P256));
    const at = der.indexOf(Buffer.from('ignored-by-ca'));
    der[at] = 'J'.charCodeAt(0);
    expect((await rejection(der)).reason).toMatch(/signature does not verify/);
  });

  it('an RSA-1024 key', async () => {
    const pem = dir.makeCsr('rsa1024', ['-newkey', 'rsa:1024']);
    expect((await rejection(pem)).reason).toBe('RSA key too small: 1024 bits (minimum 2048)');
  });

  it('a curve outside P-256/384/521', async () => {
    const pem = dir.makeCsr('k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']);
    expect((await rejection(pem)).reason).toMatch(/unsupported EC curve secp256k1/);
  });

  it('an unsupported key type (Ed448)', async () => {
    const pem = dir.makeCsr('ed448', ['-newkey', 'ed448']);
    expect((await rejection(pem)).reason).toMatch(/^unsupported key type ed448: use EC P-256\/P-384\/P-521, RSA 2048-8192 or Ed25519$/);
  });

  it('a SHA-1 signature', async () => {
    const pem = dir.makeCsr('sha1', ['-newkey', 'rsa:2048', '-sha1']);
    expect((await rejection(pem)).reason).toMatch(/signature hash SHA-1 is not allowed/);
  });

  it('garbage text and garbage bytes', async () => {
    expect((await rejection('hello, I am a CSR')).reason).toMatch(/not a PKCS#10 certificate request: not PEM/);
    expect((await rejection(Buffer.alloc(300, 0xa5))).reason).toMatch(/not a PKCS#10 certificate request: not DER/);
    expect((await rejection(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]))).reason).toMatch(/not a PKCS#10 certificate request/);
    expect((await rejection('-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n')).reason).toMatch(/not a PKCS#10/);
    expect((await rejection(Buffer.alloc(0))).reason).toMatch(/empty input/);
  });

  it('a PEM block of another type, or two CSRs in one input', async () => {
    dir.run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'c.key', '-subj', '/CN=c', '-out', 'c.pem');
    expect((await rejection(dir.read('c.pem'))).reason).toMatch(/expected PEM type CERTIFICATE REQUEST or NEW CERTIFICATE REQUEST, found CERTIFICATE/);
    const pem = dir.makeCsr('twice', EC_P256);
    expect((await rejection(pem + pem)).reason).toMatch(/expected exactly one PEM block, found 2/);
  });

  it('trailing bytes after the DER object', async () => {
    const der = Buffer.concat([derOf(dir.makeCsr('trail', EC_P256)), Buffer.from([0, 0])]);
    expect((await rejection(der)).reason).toMatch(/trailing 2 bytes/);
  });

  it('oversized input, before parsing it', async () => {
    const huge = `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(MAX_CSR_BYTES)}\n-----END CERTIFICATE REQUEST-----\n`;
    expect((await rejection(huge)).reason).toMatch(/too large: \d+ bytes \(limit 16384\)/);
    expect(() => parseCsr(Buffer.alloc(MAX_CSR_BYTES + 1))).toThrow(CsrRejectedError);
  });
});
