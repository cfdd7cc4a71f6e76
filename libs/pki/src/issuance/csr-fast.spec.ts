import { MAX_CSR_BYTES, verifyCsr } from '../authority/csr';
import { CsrRejectedError } from '../authority/errors';
import { EC_P256, OpensslDir } from '../authority/openssl-test-kit';
import { verifyCsrFast } from './csr-fast';

// verifyCsrFast must accept and refuse what verifyCsr (the @peculiar/x509 + WebCrypto reference)
// does, and describe accepted CSRs the same way. Every CSR here comes from the openssl CLI.
describe('verifyCsrFast', () => {
  const dir = new OpensslDir();
  afterAll(() => dir.remove());

  const KINDS: Record<string, string[]> = {
    'P-256 / SHA-256': EC_P256,
    'P-384 / SHA-384': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp384r1', '-sha384'],
    'P-521 / SHA-512': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp521r1', '-sha512'],
    'P-256 / SHA-512': [...EC_P256, '-sha512'],
    'RSA 2048 PKCS#1 v1.5 / SHA-256': ['-newkey', 'rsa:2048'],
    'RSA 3072 / SHA-384': ['-newkey', 'rsa:3072', '-sha384'],
    'RSA-PSS / SHA-384, salt 32': ['-newkey', 'rsa:2048', '-sha384', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'],
    'RSA-PSS / SHA-256, default salt': ['-newkey', 'rsa:2048', '-sha256', '-sigopt', 'rsa_padding_mode:pss'],
    Ed25519: ['-newkey', 'ed25519'],
  };

  it.each(Object.entries(KINDS))('accepts a %s CSR and describes it as verifyCsr does', async (_name, keyArgs) => {
    const pem = dir.makeCsr('kind', keyArgs);
    const reference = await verifyCsr(pem);
    const fast = verifyCsrFast(pem);
    expect(fast.der.equals(reference.der)).toBe(true);
    expect(fast.publicKeySpki.equals(reference.publicKeySpki)).toBe(true);
    expect({ keyAlgorithm: fast.keyAlgorithm, keySize: fast.keySize, curve: fast.curve, signatureAlgorithm: fast.signatureAlgorithm }).toEqual({
      keyAlgorithm: reference.keyAlgorithm,
      keySize: reference.keySize,
      curve: reference.curve,
      signatureAlgorithm: reference.signatureAlgorithm,
    });
    expect(fast.publicKey.export({ format: 'der', type: 'spki' }).equals(reference.publicKeySpki)).toBe(true);
    expect(fast.signatureHash).toBe(reference.signatureAlgorithm === 'Ed25519' ? 'none' : reference.signatureAlgorithm.split(' with ')[1]);
    // The same CSR as DER bytes, and as PEM bytes.
    expect(verifyCsrFast(fast.der).publicKeySpki.equals(fast.publicKeySpki)).toBe(true);
    expect(verifyCsrFast(Buffer.from(pem)).der.equals(fast.der)).toBe(true);
  });

  it('reports the requested subjectAltNames and a CA request', () => {
    const sans = 'subjectAltName=DNS:www.example.test,DNS:*.apps.example.test,IP:192.0.2.7,IP:2001:db8:0:0:0:0:0:1,email:ops@example.test,URI:spiffe://example.test/w';
    const csr = verifyCsrFast(dir.makeCsr('sans', EC_P256, ['-addext', sans, '-addext', 'keyUsage=digitalSignature']));
    expect(csr.requestedSans).toEqual([
      { kind: 'DNS', value: 'www.example.test' },
      { kind: 'DNS', value: '*.apps.example.test' },
      { kind: 'IP', value: '192.0.2.7' },
      { kind: 'IP', value: '2001:db8::1' },
      { kind: 'email', value: 'ops@example.test' },
      { kind: 'URI', value: 'spiffe://example.test/w' },
    ]);
    expect(csr.caRequested).toBe(false);
    const dirName = verifyCsrFast(dir.makeCsr('dirname', EC_P256, ['-addext', 'subjectAltName=dirName:dir_sect', '-config', writeDirNameConfig()]));
    expect(dirName.requestedSans).toEqual([{ kind: 'directoryName', value: expect.stringMatching(/^30/) }]);

    expect(verifyCsrFast(dir.makeCsr('ca', EC_P256, ['-addext', 'basicConstraints=critical,CA:TRUE'])).caRequested).toBe(true);
    expect(verifyCsrFast(dir.makeCsr('notca', EC_P256, ['-addext', 'basicConstraints=CA:FALSE'])).caRequested).toBe(false);
    expect(verifyCsrFast(dir.makeCsr('plain', EC_P256)).requestedSans).toEqual([]);
  });

  function writeDirNameConfig(): string {
    return dir.write('dirname.cnf', ['[req]', 'distinguished_name = dn', '[dn]', '[dir_sect]', 'CN = Directory Name', ''].join('\n'));
  }

  /** Both must refuse with CsrRejectedError; `sameReason` when the wording must match too. */
  async function expectBothRefuse(input: Parameters<typeof verifyCsrFast>[0], reason: RegExp, sameReason = true): Promise<void> {
    let fastError: unknown;
    try {
      verifyCsrFast(input);
    } catch (error) {
      fastError = error;
    }
    const referenceError = await verifyCsr(input).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(fastError).toBeInstanceOf(CsrRejectedError);
    expect(referenceError).toBeInstanceOf(CsrRejectedError);
    expect((fastError as CsrRejectedError).reason).toMatch(reason);
    if (sameReason) expect((fastError as CsrRejectedError).reason).toBe((referenceError as CsrRejectedError).reason);
  }

  it('refuses what verifyCsr refuses, for the same stated reason where the reason is about the CSR itself', async () => {
    const good = dir.makeCsr('good', EC_P256, ['-addext', 'subjectAltName=DNS:www.example.test']);
    const der = verifyCsrFast(good).der;

    // No proof of possession: the signed bytes were changed (the requested DNS name).
    const tampered = Buffer.from(der);
    const at = tampered.indexOf('www.example.test');
    tampered[at] = 'v'.charCodeAt(0);
    await expectBothRefuse(tampered, /^signature does not verify with the CSR public key/);
    // ... or the signature itself.
    const badSignature = Buffer.from(der);
    badSignature[badSignature.length - 3] ^= 0x01;
    await expectBothRefuse(badSignature, /does not verify|cannot be checked/, false);

    await expectBothRefuse(dir.makeCsr('rsa1024', ['-newkey', 'rsa:1024']), /^RSA key too small: 1024 bits \(minimum 2048\)$/);
    await expectBothRefuse(dir.makeCsr('k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']), /^unsupported EC curve secp256k1/);
    await expectBothRefuse(dir.makeCsr('sha1', [...EC_P256, '-sha1']), /^signature hash SHA-1 is not allowed/);
    await expectBothRefuse(dir.makeCsr('ed448', ['-newkey', 'ed448']), /^unsupported key type ed448/);

    await expectBothRefuse(' '.repeat(MAX_CSR_BYTES + 1), /^too large: 16385 bytes/);
    await expectBothRefuse(Buffer.alloc(MAX_CSR_BYTES + 1), /^too large/);
    await expectBothRefuse(42 as unknown as string, /^expected a PEM string or DER bytes$/);
    await expectBothRefuse(good + good, /^not a PKCS#10 certificate request: expected exactly one PEM block, found 2$/);
    await expectBothRefuse(good.replace(/CERTIFICATE REQUEST/g, 'CERTIFICATE'), /^not a PKCS#10 certificate request: expected PEM type/);
    await expectBothRefuse(Buffer.concat([der, Buffer.from([0])]), /^not a PKCS#10 certificate request: trailing 1 bytes/);
    await expectBothRefuse('hello', /^not a PKCS#10 certificate request/);
    // A certificate is one DER SEQUENCE too, but not a CSR.
    dir.run('req', '-x509', ...EC_P256, '-nodes', '-keyout', 'cert.key', '-out', 'cert.pem', '-subj', '/CN=x', '-days', '1');
    const certificateDer = Buffer.from(dir.read('cert.pem').split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64');
    await expectBothRefuse(certificateDer, /^not a PKCS#10 certificate request/, false);
  });

  it('refuses BER and malformed DER that a lenient parser might accept', () => {
    const der = verifyCsrFast(dir.makeCsr('ber', EC_P256)).der;
    // The outer SEQUENCE re-encoded with a non-minimal length (0x82 00 xx instead of 0x81 xx).
    expect(der[1]).toBe(0x81);
    const nonMinimal = Buffer.concat([Buffer.from([0x30, 0x82, 0x00, der[2]]), der.subarray(3)]);
    expect(() => verifyCsrFast(nonMinimal)).toThrow(/not a PKCS#10 certificate request: non-minimal length/);
    // A truncated CSR.
    expect(() => verifyCsrFast(der.subarray(0, der.length - 10))).toThrow(CsrRejectedError);
  });
});
