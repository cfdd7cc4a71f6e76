// Responders that misbehave: each must end as 'unreachable' (or 'unknown'/'none') with a detail
// that says what went wrong. Canned responses are made by openssl acting as the responder.
import { RevocationChecker } from './checker';
import { Issued, TestCa, TestHttpServer } from './test-kit';

describe('RevocationChecker failure modes', () => {
  let ca: TestCa;
  let unrelated: TestCa;
  let otherCa: TestCa;
  let server: TestHttpServer;
  const leaves: Record<string, Issued> = {};

  beforeAll(async () => {
    ca = new TestCa('/CN=Failure Test CA');
    unrelated = new TestCa('/CN=Unrelated Responder');
    otherCa = new TestCa('/CN=Another CA');
    server = await TestHttpServer.start();
    for (const name of ['hang', 'status-500', 'garbage', 'unrelated', 'unrelated-no-certs', 'other-serial', 'nonce', 'unauthorized', 'canned-good', 'canned-no-next-update']) {
      leaves[name] = ca.issue(name, { ocsp: [server.url(`/${name}`)] });
    }
    leaves.none = ca.issue('none');
    server.on('/hang', () => undefined); // accepts the request, never answers
    server.on('/status-500', (_request, response) => {
      response.statusCode = 500;
      response.end('oops');
    });
    server.serve('/garbage', '<html>this is a captive portal</html>', { contentType: 'text/html' });
    const unrelatedSigner = { dir: unrelated.dir, cert: 'ca.pem', key: 'ca.key' };
    server.serve('/unrelated', ca.cannedOcspResponse({ leaf: 'unrelated', nonce: false }, { signer: unrelatedSigner }));
    server.serve('/unrelated-no-certs', ca.cannedOcspResponse({ leaf: 'unrelated-no-certs', nonce: false }, { signer: unrelatedSigner, responderArgs: ['-resp_no_certs'] }));
    server.serve('/other-serial', ca.cannedOcspResponse({ serial: '0999', nonce: false }));
    // Carries the nonce of openssl's own request, not ours.
    server.serve('/nonce', ca.cannedOcspResponse({ leaf: 'nonce', nonce: true }));
    // Pre-produced, without a nonce: acceptable (RFC 8954 lets responders omit it).
    server.serve('/canned-good', ca.cannedOcspResponse({ leaf: 'canned-good', nonce: false }));
    // Neither nonce nor nextUpdate: nothing but its age says whether it is a replay.
    server.serve('/canned-no-next-update', ca.cannedOcspResponse({ leaf: 'canned-no-next-update', nonce: false }, { nextUpdate: false }));
    // OCSPResponse { responseStatus unauthorized(6) }
    server.serve('/unauthorized', Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x06]), { contentType: 'application/ocsp-response' });
  });

  afterAll(async () => {
    await server?.close();
    for (const each of [ca, unrelated, otherCa]) each?.dir.remove();
  });

  const check = (name: string, options = {}) => new RevocationChecker(options).check(leaves[name].der, ca.der);

  it('gives up on a responder that never answers after timeoutMs', async () => {
    const started = Date.now();
    const result = await check('hang', { timeoutMs: 250 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ status: 'unreachable', source: 'ocsp' });
    expect(result.detail).toBe(`no usable revocation answer: OCSP ${server.url('/hang')}: timed out after 250 ms`);
  });

  it('reports an HTTP 500', async () => {
    expect((await check('status-500')).detail).toBe(`no usable revocation answer: OCSP ${server.url('/status-500')}: HTTP 500 Internal Server Error`);
  });

  it('reports a body that is not an OCSP response', async () => {
    const result = await check('garbage');
    expect(result.status).toBe('unreachable');
    expect(result.detail).toMatch(/: not an OCSP response \(37 bytes of text\/html\)$/);
  });

  it('reports the responder status when it is not successful', async () => {
    expect((await check('unauthorized')).detail).toMatch(/responder said unauthorized$/);
  });

  it('refuses a response signed by an unrelated key, with or without its certificate attached', async () => {
    const withCert = await check('unrelated');
    expect(withCert.status).toBe('unreachable');
    expect(withCert.detail).toMatch(/untrusted response: response signed by "CN=Unrelated Responder", which the certificate's issuer did not issue/);
    const withoutCert = await check('unrelated-no-certs');
    expect(withoutCert.status).toBe('unreachable');
    expect(withoutCert.detail).toMatch(/bad signature: the response does not verify with the issuer's key$/);
  });

  it('refuses a response about another serial number', async () => {
    const result = await check('other-serial');
    expect(result.status).toBe('unreachable');
    expect(result.detail).toMatch(new RegExp(`the response is for another certificate: serial 0999, not ${leaves['other-serial'].serial.toLowerCase()}`));
  });

  it('refuses a response that echoes a different nonce', async () => {
    expect((await check('nonce')).detail).toMatch(/nonce mismatch: the response answers a different request/);
  });

  it('accepts a verified pre-produced response without a nonce', async () => {
    expect(await check('canned-good')).toMatchObject({ status: 'good', source: 'ocsp' });
  });

  it('accepts a response without nonce or nextUpdate only while it is recent (fake clock)', async () => {
    expect(await check('canned-no-next-update')).toMatchObject({ status: 'good', source: 'ocsp', nextUpdate: undefined });
    const replayed = await check('canned-no-next-update', { now: () => new Date(Date.now() + 2 * 86_400_000) });
    expect(replayed.status).toBe('unreachable');
    expect(replayed.detail).toMatch(/stale response: no nextUpdate, no nonce, and thisUpdate .* is more than 24 h old/);
  });

  it('says why when the certificate names neither OCSP nor CRL', async () => {
    const result = await check('none');
    expect(result).toMatchObject({ status: 'unknown', source: 'none' });
    expect(result.url).toBeUndefined();
    expect(result.detail).toBe('not checked: the certificate names no OCSP responder (authorityInfoAccess) and no http(s) CRL distribution point');
  });

  it('does not ask anyone when the issuer given is not the certificate issuer', async () => {
    const hitsBefore = server.hits.get('/canned-good');
    const result = await new RevocationChecker().check(leaves['canned-good'].der, otherCa.der);
    expect(result).toMatchObject({ status: 'unknown', source: 'none' });
    expect(result.detail).toMatch(/not checked: the issuer certificate given \(subject "CN=Another CA"\) is not this certificate's issuer \("CN=Failure Test CA"\)/);
    expect(server.hits.get('/canned-good')).toBe(hitsBefore);
  });

  it('rejects input that is not a certificate', async () => {
    await expect(new RevocationChecker().check(Buffer.from('nope'), ca.der)).rejects.toThrow(/certificate is not a DER X.509 certificate/);
  });
});
