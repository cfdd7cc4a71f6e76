// OCSP against real `openssl ocsp` responders for an external CA built with `openssl ca`.
import { RevocationChecker } from './checker';
import { Issued, OcspResponder, reservePort, TestCa, TestHttpServer } from './test-kit';

const DAY = 86_400_000;

describe('RevocationChecker over OCSP (openssl ocsp responder)', () => {
  let ca: TestCa;
  const responders: OcspResponder[] = [];
  let crlServer: TestHttpServer;
  let good: Issued;
  let revoked: Issued;
  let stranger: Issued;
  let strangerOnCrlPath: Issued;
  let viaNoNextUpdate: Issued;
  let viaDelegate: Issued;
  let viaDelegateRevoked: Issued;
  let viaNoEku: Issued;

  beforeAll(async () => {
    ca = new TestCa('/CN=OCSP Test CA/O=External');
    crlServer = await TestHttpServer.start();
    const [withNext, withoutNext, delegate, noEku] = await Promise.all([reservePort(), reservePort(), reservePort(), reservePort()]);
    const at = (port: number) => [`http://127.0.0.1:${port}/`];
    good = ca.issue('good', { ocsp: at(withNext) });
    revoked = ca.issue('revoked', { ocsp: at(withNext) });
    stranger = ca.issueUnrecorded('stranger', '7E57AB1E', { ocsp: at(withNext) });
    strangerOnCrlPath = ca.issueUnrecorded('stranger-crl', '7E57AB1F', { ocsp: at(withNext), crl: [crlServer.url('/ca.crl')] });
    viaNoNextUpdate = ca.issue('no-next-update', { ocsp: at(withoutNext) });
    viaDelegate = ca.issue('via-delegate', { ocsp: at(delegate) });
    viaDelegateRevoked = ca.issue('via-delegate-revoked', { ocsp: at(delegate) });
    viaNoEku = ca.issue('via-no-eku', { ocsp: at(noEku) });
    ca.issue('responder', { extra: ['keyUsage = critical, digitalSignature', 'extendedKeyUsage = OCSPSigning'] });
    ca.issue('responder-no-eku', { extra: ['keyUsage = critical, digitalSignature'] });
    ca.revoke('revoked', 'keyCompromise');
    ca.revoke('via-delegate-revoked', 'superseded');
    crlServer.serve('/ca.crl', ca.crl().der);

    // The index is final before the responders start: openssl only rereads it between requests.
    const index = ['-index', 'index.txt', '-CA', 'ca.pem'];
    responders.push(
      ...(await Promise.all([
        OcspResponder.start(ca.dir, withNext, [...index, '-rsigner', 'ca.pem', '-rkey', 'ca.key', '-ndays', '1']),
        // No nextUpdate, no certificates in the response, responder named by key hash.
        OcspResponder.start(ca.dir, withoutNext, [...index, '-rsigner', 'ca.pem', '-rkey', 'ca.key', '-resp_no_certs', '-resp_key_id']),
        OcspResponder.start(ca.dir, delegate, [...index, '-rsigner', 'responder.pem', '-rkey', 'responder.key', '-ndays', '1']),
        OcspResponder.start(ca.dir, noEku, [...index, '-rsigner', 'responder-no-eku.pem', '-rkey', 'responder-no-eku.key', '-ndays', '1']),
      ])),
    );
  });

  afterAll(async () => {
    await Promise.all(responders.map((responder) => responder.stop()));
    await crlServer?.close();
    ca?.dir.remove();
  });

  it('reports a good certificate, with the responder URL and nextUpdate', async () => {
    const before = Date.now();
    const result = await new RevocationChecker().check(good.der, ca.der);
    expect(result).toMatchObject({ status: 'good', source: 'ocsp', url: responders[0].url });
    expect(result.reason).toBeUndefined();
    expect(result.checkedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(result.nextUpdate!.getTime() - Date.now()).toBeGreaterThan(DAY - 60_000);
    expect(result.detail).toMatch(/says good; signed by the issuer, nextUpdate/);
  });

  it('reports a revoked certificate with reason and the revocation time openssl recorded', async () => {
    const result = await new RevocationChecker().check(revoked.der, ca.der);
    expect(result).toMatchObject({ status: 'revoked', source: 'ocsp', reason: 'keyCompromise' });
    expect(result.revokedAt).toEqual(ca.revokedAt(revoked.serial));
  });

  it('reports unknown when the responder does not know the certificate and there is no CRL', async () => {
    const result = await new RevocationChecker().check(stranger.der, ca.der);
    expect(result).toMatchObject({ status: 'unknown', source: 'ocsp' });
    expect(result.detail).toMatch(/the responder does not know this certificate/);
  });

  it('lets a CRL decide when the responder says unknown', async () => {
    const result = await new RevocationChecker().check(strangerOnCrlPath.der, ca.der);
    expect(result).toMatchObject({ status: 'good', source: 'crl', url: crlServer.url('/ca.crl') });
    expect(result.detail).toMatch(/not on the CRL.*OCSP responder .* says unknown/);
  });

  it('answers the second check from the cache when the responder sets nextUpdate', async () => {
    const checker = new RevocationChecker();
    const first = await checker.check(good.der, ca.der);
    expect(checker.stats()).toEqual({ ocspCached: 1, crlCached: 0, hits: 0, misses: 1 });
    const second = await checker.check(good.der, ca.der);
    expect(checker.stats()).toEqual({ ocspCached: 1, crlCached: 0, hits: 1, misses: 1 });
    expect(second).toMatchObject({ status: 'good', source: 'ocsp', nextUpdate: first.nextUpdate });
    expect(second.detail).toMatch(/\(cached answer fetched /);
  });

  it('asks again when the response has no nextUpdate (issuer-signed by key id, no certs)', async () => {
    const checker = new RevocationChecker();
    const first = await checker.check(viaNoNextUpdate.der, ca.der);
    await checker.check(viaNoNextUpdate.der, ca.der);
    expect(first).toMatchObject({ status: 'good', source: 'ocsp', nextUpdate: undefined });
    expect(first.detail).toMatch(/no nextUpdate \(not cached\)/);
    expect(checker.stats()).toEqual({ ocspCached: 0, crlCached: 0, hits: 0, misses: 2 });
  });

  it('drops the oldest cached answer past cacheEntries', async () => {
    const checker = new RevocationChecker({ cacheEntries: 1 });
    await checker.check(good.der, ca.der);
    await checker.check(revoked.der, ca.der);
    await checker.check(good.der, ca.der);
    expect(checker.stats()).toEqual({ ocspCached: 1, crlCached: 0, hits: 0, misses: 3 });
  });

  it('expires cached answers at nextUpdate and refuses stale responses (fake clock)', async () => {
    let now = new Date();
    const checker = new RevocationChecker({ now: () => now });
    await checker.check(good.der, ca.der);
    now = new Date(Date.now() + 2 * DAY);
    const stale = await checker.check(good.der, ca.der);
    expect(stale).toMatchObject({ status: 'unreachable', source: 'ocsp' });
    expect(stale.detail).toMatch(/stale response: nextUpdate .* has passed/);
    expect(checker.stats()).toMatchObject({ ocspCached: 0, hits: 0, misses: 2 });
  });

  it('accepts a delegated responder certificate the issuer signed with id-kp-OCSPSigning', async () => {
    const checker = new RevocationChecker();
    const result = await checker.check(viaDelegate.der, ca.der);
    expect(result).toMatchObject({ status: 'good', source: 'ocsp' });
    expect(result.detail).toMatch(/signed by delegated responder "CN=responder"/);
    const revokedResult = await checker.check(viaDelegateRevoked.der, ca.der);
    expect(revokedResult).toMatchObject({ status: 'revoked', reason: 'superseded', revokedAt: ca.revokedAt(viaDelegateRevoked.serial) });
  });

  it('refuses a delegated responder certificate without id-kp-OCSPSigning', async () => {
    const result = await new RevocationChecker().check(viaNoEku.der, ca.der);
    expect(result).toMatchObject({ status: 'unreachable', source: 'ocsp' });
    expect(result.detail).toMatch(/untrusted response: responder certificate "CN=responder-no-eku" lacks extended key usage id-kp-OCSPSigning/);
  });
});
