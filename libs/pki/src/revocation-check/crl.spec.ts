// CRL fallback against CRLs made by `openssl ca -gencrl`, served by a plain Node HTTP server.
import { RevocationChecker } from './checker';
import { Issued, reservePort, TestCa, TestHttpServer } from './test-kit';

const DAY = 86_400_000;

describe('RevocationChecker over CRLs (openssl ca -gencrl)', () => {
  let ca: TestCa;
  // Same name, different key: its CRLs must not be trusted for `ca`'s certificates.
  let imposter: TestCa;
  let server: TestHttpServer;
  let crlNextUpdate: Date;
  const leaves: Record<string, Issued> = {};

  beforeAll(async () => {
    ca = new TestCa('/CN=CRL Only CA/O=External');
    imposter = new TestCa('/CN=CRL Only CA/O=External');
    server = await TestHttpServer.start();
    const nothingListens = `http://127.0.0.1:${await reservePort()}/`;
    const issue = (name: string, paths: string[], ocsp: string[] = []) => {
      leaves[name] = ca.issue(name, { ocsp, crl: paths.map((path) => server.url(path)) });
    };
    issue('good', ['/ca.crl']);
    issue('revoked', ['/ca.crl']);
    issue('dead-ocsp', ['/ca.crl'], [nothingListens]);
    issue('pem', ['/ca-pem.crl']);
    issue('revoked-pem', ['/ca-pem.crl']);
    issue('second-point', ['/missing.crl', '/ca.crl']);
    issue('imposter', ['/imposter.crl']);
    issue('chunked', ['/ca-chunked.crl']);
    issue('counted', ['/counted.crl']);
    issue('counted-revoked', ['/counted.crl']);
    issue('partition', ['/partition.crl']);
    issue('broken', ['/broken.crl', '/garbage.crl'], [nothingListens]);
    ca.revoke('revoked', 'keyCompromise');
    ca.revoke('revoked-pem', 'cessationOfOperation');
    ca.revoke('counted-revoked', 'affiliationChanged');
    const crl = ca.crl();
    crlNextUpdate = new Date(Date.now() + DAY);
    server.serve('/ca.crl', crl.der, { contentType: 'application/pkix-crl' });
    server.serve('/ca-pem.crl', crl.pem, { contentType: 'application/x-pem-file' });
    server.serve('/ca-chunked.crl', crl.der, { chunked: true });
    server.serve('/counted.crl', crl.der);
    server.serve('/imposter.crl', imposter.crl().der);
    server.serve('/garbage.crl', 'this is not a CRL');
    server.on('/broken.crl', (_request, response) => {
      response.statusCode = 500;
      response.end();
    });
    ca.addConfig(`[idp_elsewhere]
issuingDistributionPoint = critical, @idp_elsewhere_section
[idp_elsewhere_section]
fullname = URI:http://crl.elsewhere.example/other.crl
`);
    server.serve('/partition.crl', ca.crl('partition.crl', { crlExtensions: 'idp_elsewhere' }).der);
  });

  afterAll(async () => {
    await server?.close();
    ca?.dir.remove();
    imposter?.dir.remove();
  });

  it('reports a certificate that is not on the CRL as good', async () => {
    const result = await new RevocationChecker().check(leaves.good.der, ca.der);
    expect(result).toMatchObject({ status: 'good', source: 'crl', url: server.url('/ca.crl') });
    expect(Math.abs(result.nextUpdate!.getTime() - crlNextUpdate.getTime())).toBeLessThan(60_000);
    expect(result.detail).toMatch(/^serial [0-9a-f]+ is not on the CRL at .*CRL of 3 entries/);
  });

  it('reports a revoked certificate with its reason and revocation time', async () => {
    const result = await new RevocationChecker().check(leaves.revoked.der, ca.der);
    expect(result).toMatchObject({ status: 'revoked', source: 'crl', reason: 'keyCompromise', revokedAt: ca.revokedAt(leaves.revoked.serial) });
  });

  it('falls back to the CRL when nothing listens at the OCSP URL, and says so', async () => {
    const result = await new RevocationChecker({ timeoutMs: 1000 }).check(leaves['dead-ocsp'].der, ca.der);
    expect(result).toMatchObject({ status: 'good', source: 'crl' });
    expect(result.detail).toMatch(/; OCSP http:\/\/127\.0\.0\.1:\d+\/: connection refused \(ECONNREFUSED\)$/);
  });

  it('accepts a PEM CRL', async () => {
    const checker = new RevocationChecker();
    expect(await checker.check(leaves.pem.der, ca.der)).toMatchObject({ status: 'good', source: 'crl', url: server.url('/ca-pem.crl') });
    expect(await checker.check(leaves['revoked-pem'].der, ca.der)).toMatchObject({ status: 'revoked', reason: 'cessationOfOperation' });
  });

  it('reads a chunked response (no Content-Length)', async () => {
    expect(await new RevocationChecker().check(leaves.chunked.der, ca.der)).toMatchObject({ status: 'good', source: 'crl' });
  });

  it('tries the next distribution point when one fails', async () => {
    const result = await new RevocationChecker().check(leaves['second-point'].der, ca.der);
    expect(result).toMatchObject({ status: 'good', url: server.url('/ca.crl') });
    expect(result.detail).toContain(`CRL ${server.url('/missing.crl')}: HTTP 404 Not Found`);
  });

  it('does not trust a CRL signed by another key under the same name', async () => {
    const result = await new RevocationChecker().check(leaves.imposter.der, ca.der);
    expect(result).toMatchObject({ status: 'unreachable', source: 'crl' });
    expect(result.detail).toMatch(/bad signature: the CRL does not verify with the issuer's key/);
  });

  it('does not use an expired CRL (fake clock past nextUpdate)', async () => {
    const result = await new RevocationChecker({ now: () => new Date(Date.now() + 3 * DAY) }).check(leaves.revoked.der, ca.der);
    expect(result).toMatchObject({ status: 'unreachable', source: 'crl' });
    expect(result.detail).toMatch(/expired CRL: nextUpdate .* has passed/);
  });

  it('refuses a CRL over maxCrlBytes, announced or streamed', async () => {
    const checker = new RevocationChecker({ maxCrlBytes: 100 });
    const announced = await checker.check(leaves.good.der, ca.der);
    expect(announced.status).toBe('unreachable');
    expect(announced.detail).toMatch(/response exceeds the 100-byte limit \(Content-Length \d+\)/);
    const streamed = await checker.check(leaves.chunked.der, ca.der);
    expect(streamed.detail).toMatch(/response exceeds the 100-byte limit \(more than 100 bytes received\)/);
  });

  it('refuses a CRL whose issuingDistributionPoint is not one the certificate names', async () => {
    const checker = new RevocationChecker();
    const result = await checker.check(leaves.partition.der, ca.der);
    expect(checker.stats()).toEqual({ ocspCached: 0, crlCached: 1, hits: 0, misses: 1 });
    expect(result).toMatchObject({ status: 'unreachable' });
    expect(result.detail).toMatch(/the CRL is for distribution point http:\/\/crl\.elsewhere\.example\/other\.crl, which this certificate does not name/);
  });

  it('lists every URL that failed', async () => {
    const result = await new RevocationChecker({ timeoutMs: 1000 }).check(leaves.broken.der, ca.der);
    expect(result.status).toBe('unreachable');
    expect(result.detail).toMatch(/^no usable revocation answer: OCSP .*connection refused.*; CRL .*\/broken\.crl: HTTP 500.*; CRL .*\/garbage\.crl: not a CRL/);
  });

  it('downloads a CRL once, caches its index until nextUpdate and shares concurrent downloads', async () => {
    const checker = new RevocationChecker();
    const hitsBefore = server.hits.get('/counted.crl') ?? 0;
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => checker.check(leaves.counted.der, ca.der)));
    expect(results.map((result) => result.status)).toEqual(['good', 'good', 'good', 'good', 'good']);
    expect(server.hits.get('/counted.crl')).toBe(hitsBefore + 1);
    const later = await checker.check(leaves['counted-revoked'].der, ca.der);
    expect(later).toMatchObject({ status: 'revoked', reason: 'affiliationChanged' });
    expect(later.detail).toMatch(/\(cached answer fetched /);
    expect(server.hits.get('/counted.crl')).toBe(hitsBefore + 1);
    expect(checker.stats()).toEqual({ ocspCached: 0, crlCached: 1, hits: 1, misses: 5 });
  });
});
