import { readCertificateFile, releaseDiscoveryCaches } from './index';
import { Workdir } from './testing/openssl-fixtures';

const read = (data: Buffer, path: string) => readCertificateFile(data, { path, passwords: [] });

describe('discovery caches', () => {
  const work = new Workdir();
  beforeAll(() => work.makeCaAndLeaf('ec'));
  afterAll(() => {
    work.remove();
    releaseDiscoveryCaches();
  });

  it('reads a repeated certificate once and shares its parts, with the facts of each file', () => {
    const bundle = Buffer.concat([work.read('ec-leaf.pem'), work.read('ec-ca.pem')]);
    const [leafAlone] = read(work.read('ec-leaf.pem'), '/a/leaf.pem').certificates;
    const [leafInBundle, ca] = read(bundle, '/b/bundle.pem').certificates;
    expect(leafInBundle.fingerprintSha256).toBe(leafAlone.fingerprintSha256);
    expect(leafInBundle.der).toBe(leafAlone.der); // one copy of the DER, not two
    expect(leafInBundle.notAfter).toBe(leafAlone.notAfter);
    // Chain facts and file facts are per file, not shared.
    expect(leafAlone).toMatchObject({ file: expect.objectContaining({ path: '/a/leaf.pem' }), chainComplete: false, chainLength: 1 });
    expect(leafInBundle).toMatchObject({ file: expect.objectContaining({ path: '/b/bundle.pem' }), chainComplete: true, chainLength: 2 });
    expect(ca.selfSigned).toBe(true);
  });

  it('shares one frozen empty list for absent name types and copies the DER out of the input', () => {
    const input = work.read('ec-ca.pem'); // a CA certificate without subjectAltName
    releaseDiscoveryCaches();
    const [cert] = read(input, '/a/ca.pem').certificates;
    expect(cert.dnsNames).toEqual([]);
    expect(cert.ipAddresses).toBe(cert.dnsNames);
    expect(Object.isFrozen(cert.dnsNames)).toBe(true);
    const der = Buffer.from(cert.der);
    input.fill(0); // the walker reuses its read buffer for the next file
    expect(cert.der.equals(der)).toBe(true);
  });

  it('parses again after the caches are released', () => {
    const [first] = read(work.read('ec-leaf.pem'), '/a/leaf.pem').certificates;
    releaseDiscoveryCaches();
    const [second] = read(work.read('ec-leaf.pem'), '/a/leaf.pem').certificates;
    expect(second.der).not.toBe(first.der);
    expect(second.der.equals(first.der)).toBe(true);
    expect(second).toEqual(first);
  });
});
