import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CaMaterialError } from '../authority/errors';
import { OpensslDir } from '../authority/openssl-test-kit';
import { readCertificateParts } from './certificate-parts';
import { ocspCertIdMatcher } from './ocsp-cert-id';
import { OcspHash, parseOcspRequest } from './ocsp-request';
import { buildOcspResponse, ocspErrorResponse, OcspSingleAnswer } from './ocsp-response';
import { ocspSignerForCa, ocspSignerForDelegate, OcspSigner } from './ocsp-signer';
import { REVOCATION_REASONS, revocationReasonCode } from './reasons';
import { issueOcspResponderCertificate } from './responder-certificate';
import { CaKind, createTestCa, createTestLeaf, createTestRoot, opensslTime, TestCa } from './revocation-test-kit';

const HOUR_MS = 3_600_000;
const spkiOf = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) => key.export({ format: 'der', type: 'spki' });
const pkcs8Of = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) => key.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('OCSP', () => {
  const dir = new OpensslDir();
  const cas = {} as Record<CaKind, TestCa>;
  let root: Awaited<ReturnType<typeof createTestRoot>>;
  // Whole seconds, a little in the past: openssl refuses times in the future.
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const nextUpdate = new Date(now.getTime() + HOUR_MS);
  const revokedAt = new Date(now.getTime() - 2 * HOUR_MS);

  beforeAll(async () => {
    root = await createTestRoot(dir);
    for (const kind of ['P-256', 'P-384', 'RSA'] as const) cas[kind] = await createTestCa(dir, root.root, kind);
  }, 60_000);
  afterAll(() => dir.remove());

  const requestFile = (name: string, ...args: string[]) => {
    dir.run('ocsp', ...args, '-reqout', `${name}.der`);
    return { der: readFileSync(dir.file(`${name}.der`)), file: dir.file(`${name}.der`), text: dir.run('ocsp', '-reqin', `${name}.der`, '-req_text', '-noverify') };
  };
  // openssl wraps long hex values: a trailing backslash, then the rest on the next line.
  const hexAfter = (text: string, label: string) => new RegExp(`${label}: ?\\n?\\s*((?:[0-9A-F]+\\\\\\n)*[0-9A-F]+)\\n`).exec(text)![1].replace(/\\\n/g, '').toLowerCase();
  /** openssl ocsp reading our response: status, combined output. */
  const check = (respFile: string, test: TestCa, ...args: string[]) => dir.attempt('ocsp', '-respin', respFile, '-issuer', test.caFile, '-CAfile', test.chainFile, ...args);

  describe('requests made by openssl', () => {
    it('reads the default request: one SHA-1 CertID and a nonce, matching the issuing CA only', () => {
      const leaf = createTestLeaf(dir, cas['P-256'].ca, 'req-default');
      const { der, text } = requestFile('req-default', '-issuer', cas['P-256'].caFile, '-cert', leaf.file);
      const request = parseOcspRequest(der);
      expect(request.certIds).toHaveLength(1);
      const [certId] = request.certIds;
      expect(certId.hash).toBe('sha1');
      expect(certId.serialHex).toBe(leaf.serialHex);
      expect(certId.issuerNameHash.toString('hex')).toBe(hexAfter(text, 'Issuer Name Hash'));
      expect(certId.issuerKeyHash.toString('hex')).toBe(hexAfter(text, 'Issuer Key Hash'));
      // The nonce is the extnValue contents: an OCTET STRING of openssl's 16 random bytes.
      expect(request.nonce!.toString('hex')).toBe(hexAfter(text, 'OCSP Nonce'));
      expect(request.nonce!.subarray(0, 2)).toEqual(Buffer.from([0x04, 0x10]));
      // der is the CertID's bytes exactly as in the request.
      expect(der.indexOf(certId.der)).toBeGreaterThan(0);
      expect(certId.der.subarray(-16).equals(Buffer.from(leaf.serialHex, 'hex'))).toBe(true);
      expect(ocspCertIdMatcher(cas['P-256'].ca)(certId)).toBe(true);
      expect(ocspCertIdMatcher(cas['P-384'].ca)(certId)).toBe(false);
      expect(ocspCertIdMatcher(cas.RSA.ca)(certId)).toBe(false);
    });

    it('reads a request without a nonce', () => {
      const leaf = createTestLeaf(dir, cas['P-256'].ca, 'req-no-nonce');
      const request = parseOcspRequest(requestFile('req-no-nonce', '-issuer', cas['P-256'].caFile, '-cert', leaf.file, '-no_nonce').der);
      expect(request.nonce).toBeUndefined();
      expect(Object.keys(request)).toEqual(['certIds']);
      expect(request.certIds[0].serialHex).toBe(leaf.serialHex);
    });

    it.each(['sha1', 'sha256', 'sha384', 'sha512'] as OcspHash[])('reads %s CertIDs and matches them to the right CA of each key type', (hash) => {
      for (const kind of ['P-256', 'P-384', 'RSA'] as const) {
        const leaf = createTestLeaf(dir, cas[kind].ca, `req-${hash}-${kind}`);
        const { der, text } = requestFile(`req-${hash}-${kind}`, `-${hash}`, '-issuer', cas[kind].caFile, '-cert', leaf.file);
        const [certId] = parseOcspRequest(der).certIds;
        expect(certId.hash).toBe(hash);
        expect(text).toContain(`Hash Algorithm: ${hash}`);
        expect(certId.issuerNameHash.toString('hex')).toBe(hexAfter(text, 'Issuer Name Hash'));
        // RFC 6960: the key hash covers the subjectPublicKey bits of the issuer.
        expect(certId.issuerKeyHash).toEqual(createHash(hash).update(readCertificateParts(cas[kind].ca.certificateDer).publicKeyBits).digest());
        for (const other of ['P-256', 'P-384', 'RSA'] as const) expect(ocspCertIdMatcher(cas[other].ca)(certId)).toBe(other === kind);
      }
    });

    it('reads several CertIDs in request order', () => {
      const leaves = ['multi-1', 'multi-2', 'multi-3'].map((name) => createTestLeaf(dir, cas['P-384'].ca, name));
      const { der } = requestFile('req-multi', '-issuer', cas['P-384'].caFile, ...leaves.flatMap((leaf) => ['-cert', leaf.file]));
      const request = parseOcspRequest(der);
      expect(request.certIds.map((id) => id.serialHex)).toEqual(leaves.map((leaf) => leaf.serialHex));
      expect(request.certIds.every(ocspCertIdMatcher(cas['P-384'].ca))).toBe(true);
    });

    it('reads a signed request (the signature is not checked) and serials openssl gives by number', () => {
      const signer = createTestLeaf(dir, cas['P-256'].ca, 'req-signer');
      const { der, text } = requestFile('req-signed', '-issuer', cas['P-256'].caFile, '-serial', '0x01', '-serial', '0x80', '-serial', '0x00ff00', '-signer', signer.file, '-signkey', signer.keyFile);
      expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
      const request = parseOcspRequest(der);
      expect(request.certIds.map((id) => id.serialHex)).toEqual(['01', '80', 'ff00']);
      expect(request.nonce).toHaveLength(18);
    });
  });

  describe.each(['P-256', 'P-384', 'RSA'] as const)('responses from a %s CA, checked by openssl', (kind) => {
    let test: TestCa;
    let signers: { name: string; signer: OcspSigner; responderKeyBits: Buffer }[];

    beforeAll(() => {
      test = cas[kind];
      for (const name of ['good', 'revoked', 'unknown']) createTestLeaf(dir, test.ca, `${kind}-${name}`); // read by certArgs()
      const delegateKey = kind === 'RSA' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const responder = issueOcspResponderCertificate(test.ca, { publicKeySpki: spkiOf(delegateKey.publicKey), commonName: `OCSP responder ${kind}`, validityDays: 7 });
      dir.write(`${kind}-responder.pem`, responder.certificatePem);
      signers = [
        { name: 'the CA', signer: ocspSignerForCa(test.ca), responderKeyBits: readCertificateParts(test.ca.certificateDer).publicKeyBits },
        {
          name: 'a delegated responder',
          signer: ocspSignerForDelegate(test.ca, { certificatePem: responder.certificatePem, privateKeyPem: pkcs8Of(delegateKey.privateKey) }),
          responderKeyBits: readCertificateParts(responder.certificateDer).publicKeyBits,
        },
      ];
    });

    const answer = (certIds: ReturnType<typeof parseOcspRequest>['certIds']): OcspSingleAnswer[] => [
      { certId: certIds[0], status: { kind: 'good' }, thisUpdate: now, nextUpdate },
      { certId: certIds[1], status: { kind: 'revoked', revokedAt, reason: 'keyCompromise' }, thisUpdate: now, nextUpdate },
      { certId: certIds[2], status: { kind: 'unknown' }, thisUpdate: now },
    ];
    const certArgs = () => ['good', 'revoked', 'unknown'].flatMap((name) => ['-cert', dir.file(`${kind}-${name}.pem`)]);

    it('signs good / revoked (with reason) / unknown answers that openssl verifies, echoing the nonce', () => {
      for (const [i, { name, signer, responderKeyBits }] of signers.entries()) {
        const request = requestFile(`${kind}-three-${i}`, '-issuer', test.caFile, ...certArgs());
        const parsed = parseOcspRequest(request.der);
        const resp = dir.write(`${kind}-three-${i}.resp`, buildOcspResponse(signer, { producedAt: now, responses: answer(parsed.certIds), nonce: parsed.nonce }));

        // Against the request it answers: signature, chain and nonce all checked.
        const againstRequest = check(resp, test, '-reqin', request.file);
        expect({ signer: name, ...againstRequest }).toEqual({ signer: name, status: 0, output: 'Response verify OK\n' });

        // Statuses per certificate (a fresh request without a nonce, so only the answers are compared).
        const summary = check(resp, test, ...certArgs(), '-no_nonce');
        expect(summary.status).toBe(0);
        const times = `\\tThis Update: ${opensslTime(now)}\\n\\tNext Update: ${opensslTime(nextUpdate)}\\n`;
        expect(summary.output).toMatch(/(^|\n)Response verify OK\n/);
        expect(summary.output).toMatch(new RegExp(`${kind}-good.pem: good\\n${times}`));
        expect(summary.output).toMatch(new RegExp(`${kind}-revoked.pem: revoked\\n${times}\\tReason: keyCompromise\\n\\tRevocation Time: ${opensslTime(revokedAt)}\\n`));
        expect(summary.output).toMatch(new RegExp(`${kind}-unknown.pem: unknown\\n\\tThis Update: ${opensslTime(now)}\\n(?!\\tNext Update)`));

        const text = check(resp, test, '-reqin', request.file, '-resp_text').output;
        expect(text).toContain('OCSP Response Status: successful (0x0)');
        expect(text).toContain('Response Type: Basic OCSP Response');
        expect(text).toContain(`Responder Id: ${createHash('sha1').update(responderKeyBits).digest('hex').toUpperCase()}`);
        expect(text).toContain(`Produced At: ${opensslTime(now)}`);
        expect(text).toMatch(new RegExp(`Response Extensions:\\n\\s+OCSP Nonce: \\n\\s+${parsed.nonce!.toString('hex').toUpperCase()}\\n`));
        const certificates = (text.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
        expect({ signer: name, certificates }).toEqual({ signer: name, certificates: name === 'the CA' ? 0 : 1 });
      }
    });

    it('is caught by openssl when the nonce is missing or wrong, or the signer is not this CA or its responder', () => {
      const request = requestFile(`${kind}-nonce`, '-issuer', test.caFile, ...certArgs());
      const { certIds, nonce } = parseOcspRequest(request.der);
      const [own] = signers;
      const noNonce = dir.write(`${kind}-no-nonce.resp`, buildOcspResponse(own.signer, { producedAt: now, responses: answer(certIds) }));
      expect(check(noNonce, test, '-reqin', request.file).output).toContain('WARNING: no nonce in response');
      const otherNonce = Buffer.from(nonce!);
      otherNonce[otherNonce.length - 1] ^= 1;
      const wrongNonce = dir.write(`${kind}-wrong-nonce.resp`, buildOcspResponse(own.signer, { producedAt: now, responses: answer(certIds), nonce: otherNonce }));
      expect(check(wrongNonce, test, '-reqin', request.file).output).toContain('Nonce Verify error');

      // Another CA signing, directly or through its own delegated responder: refused.
      const otherKind = kind === 'P-256' ? 'P-384' : 'P-256';
      const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const otherResponder = issueOcspResponderCertificate(cas[otherKind].ca, { publicKeySpki: spkiOf(otherKey.publicKey), commonName: 'Other responder', validityDays: 1 });
      const strangers = [ocspSignerForCa(cas[otherKind].ca), ocspSignerForDelegate(cas[otherKind].ca, { certificatePem: otherResponder.certificatePem, privateKeyPem: pkcs8Of(otherKey.privateKey) })];
      for (const [i, stranger] of strangers.entries()) {
        const resp = dir.write(`${kind}-stranger-${i}.resp`, buildOcspResponse(stranger, { producedAt: now, responses: answer(certIds), nonce }));
        const result = check(resp, test, '-reqin', request.file);
        expect(result.status).not.toBe(0);
        expect(result.output).toMatch(/Response Verify Failure/);
      }
    });
  });

  it('gives every revocation reason with its RFC 5280 code, and none for unspecified', () => {
    const test = cas['P-256'];
    const reasons = REVOCATION_REASONS.filter((reason) => reason !== 'removeFromCRL');
    const serials = reasons.map((_, i) => `0x${(0x1000 + i).toString(16)}`);
    const request = requestFile('reasons', '-issuer', test.caFile, ...serials.flatMap((s) => ['-serial', s]), '-no_nonce');
    const { certIds } = parseOcspRequest(request.der);
    const responses: OcspSingleAnswer[] = certIds.map((certId, i) => ({ certId, status: { kind: 'revoked', revokedAt, reason: reasons[i] }, thisUpdate: now }));
    const resp = dir.write('reasons.resp', buildOcspResponse(ocspSignerForCa(test.ca), { producedAt: now, responses }));
    const { output } = check(resp, test, '-reqin', request.file, '-resp_text');
    expect(output).toMatch(/\nResponse verify OK\n$/);
    const printed = [...output.matchAll(/Serial Number: (\w+)\n\s+Cert Status: revoked\n\s+Revocation Time: (.*)\n(?:\s+Revocation Reason: (\S+) \(0x(\w+)\)\n)?/g)];
    // OpenSSL 3.0 has names for codes 0-8 only: 9 and 10 print as "(UNKNOWN)" with the right code.
    const opensslName: Record<string, string> = { caCompromise: 'cACompromise', privilegeWithdrawn: '(UNKNOWN)', aACompromise: '(UNKNOWN)' };
    expect(printed.map((m) => [`0x${m[1].toLowerCase()}`, m[2], m[3], m[4] === undefined ? undefined : parseInt(m[4], 16)])).toEqual(
      reasons.map((reason, i) => [serials[i], opensslTime(revokedAt), reason === 'unspecified' ? undefined : (opensslName[reason] ?? reason), reason === 'unspecified' ? undefined : revocationReasonCode(reason)]),
    );
  });

  it('issues delegated responder certificates: OCSPSigning, ocsp-nocheck, digitalSignature, chained to the CA', () => {
    const test = cas['P-384'];
    const key = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const issuedAt = new Date(now.getTime() + 250);
    const responder = issueOcspResponderCertificate(test.ca, { publicKeySpki: spkiOf(key.publicKey), commonName: 'Example OCSP Responder', validityDays: 3, now: issuedAt });
    const file = dir.write('responder.pem', responder.certificatePem);
    const text = dir.run('x509', '-in', file, '-noout', '-text');
    expect(text).toContain('Subject: CN = Example OCSP Responder');
    expect(text).toContain(`Serial Number:\n            ${responder.serialHex.replace(/(..)(?!$)/g, '$1:')}`);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+OCSP Signing\n/);
    expect(text).toMatch(/OCSP No Check: \n/);
    expect(text).toContain(`Not After : ${opensslTime(new Date(now.getTime() + 3 * 24 * HOUR_MS))}`);
    expect(responder.notAfter).toEqual(new Date(now.getTime() + 3 * 24 * HOUR_MS));
    expect(dir.attempt('verify', '-CAfile', test.chainFile, '-purpose', 'ocsphelper', file)).toEqual({ status: 0, output: `${file}: OK\n` });
    expect(responder.certificateDer.equals(Buffer.from(responder.certificatePem.replace(/-----[^-]+-----|\s/g, ''), 'base64'))).toBe(true);
  });

  it('refuses delegated responders the CA did not issue, without OCSPSigning, expired, or with the wrong key', () => {
    const test = cas['P-256'];
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateKeyPem = pkcs8Of(key.privateKey);
    const request = { publicKeySpki: spkiOf(key.publicKey), commonName: 'Responder', validityDays: 2 };
    const good = issueOcspResponderCertificate(test.ca, request);
    expect(ocspSignerForDelegate(test.ca, { certificatePem: good.certificatePem, privateKeyPem }).issuer).toBe(test.ca);

    const fromOther = issueOcspResponderCertificate(cas['P-384'].ca, request);
    expect(() => ocspSignerForDelegate(test.ca, { certificatePem: fromOther.certificatePem, privateKeyPem })).toThrow(/was not issued by "O=Example, CN=Example P-256 Issuing CA"/);
    createTestLeaf(dir, test.ca, 'not-a-responder');
    expect(() => ocspSignerForDelegate(test.ca, { certificatePem: dir.read('not-a-responder.pem'), privateKeyPem: dir.read('not-a-responder.key') })).toThrow(/lacks extendedKeyUsage id-kp-OCSPSigning/);
    const expired = issueOcspResponderCertificate(test.ca, { ...request, validityDays: 1, now: new Date(Date.now() - 3 * 24 * HOUR_MS) });
    expect(() => ocspSignerForDelegate(test.ca, { certificatePem: expired.certificatePem, privateKeyPem })).toThrow(/expired at/);
    expect(() => ocspSignerForDelegate(test.ca, { certificatePem: good.certificatePem, privateKeyPem: dir.read('not-a-responder.key') })).toThrow(/does not belong/);
    expect(() => ocspSignerForDelegate(test.ca, { certificatePem: 'not a certificate', privateKeyPem })).toThrow(CaMaterialError);
    expect(() => ocspSignerForDelegate(test.ca, { certificatePem: good.certificatePem, privateKeyPem: 'nope' })).toThrow(/cannot read the OCSP responder private key/);

    expect(() => issueOcspResponderCertificate(test.ca, { ...request, validityDays: 0 })).toThrow(/validityDays must be a positive number/);
    expect(() => issueOcspResponderCertificate(test.ca, { ...request, commonName: '' })).toThrow(/invalid commonName/);
    expect(() => issueOcspResponderCertificate(test.ca, { ...request, publicKeySpki: spkiOf(generateKeyPairSync('ed25519').publicKey) })).toThrow(/must be EC or RSA/);
    expect(() => issueOcspResponderCertificate(test.ca, { ...request, now: new Date(test.ca.notAfter.getTime() + 1000) })).toThrow(CaMaterialError);
  });

  it.each([
    ['malformedRequest', 'malformedrequest (1)'],
    ['internalError', 'internalerror (2)'],
    ['tryLater', 'trylater (3)'],
    ['sigRequired', 'sigrequired (5)'],
    ['unauthorized', 'unauthorized (6)'],
  ] as const)('writes the unsuccessful response %s as openssl reads it', (status, printed) => {
    const der = ocspErrorResponse(status);
    expect(der).toHaveLength(5);
    const file = dir.write(`error-${status}.resp`, der);
    expect(dir.attempt('ocsp', '-respin', file, '-resp_text').output).toContain(`Responder Error: ${printed}`);
    der[4] = 0; // a copy: changing it leaves the next response intact
    expect(ocspErrorResponse(status)[4]).not.toBe(0);
  });

  it('refuses answers that cannot be encoded', () => {
    const test = cas['P-256'];
    const signer = ocspSignerForCa(test.ca);
    const leaf = createTestLeaf(dir, test.ca, 'refuse');
    const [certId] = parseOcspRequest(requestFile('refuse', '-issuer', test.caFile, '-cert', leaf.file).der).certIds;
    const ok: OcspSingleAnswer = { certId, status: { kind: 'good' }, thisUpdate: now };
    expect(() => buildOcspResponse(signer, { producedAt: now, responses: [] })).toThrow(/at least one answer/);
    expect(() => buildOcspResponse(signer, { producedAt: new Date(NaN), responses: [ok] })).toThrow(/not a valid date/);
    expect(() => buildOcspResponse(signer, { producedAt: now, responses: [{ ...ok, status: { kind: 'revoked', revokedAt, reason: 'removeFromCRL' } }] })).toThrow(/answer good/);
    expect(() => buildOcspResponse(signer, { producedAt: now, responses: [{ ...ok, status: { kind: 'revoked', revokedAt, reason: 'lost' as never } }] })).toThrow(/unknown revocation reason/);
    expect(() => buildOcspResponse(signer, { producedAt: now, responses: [{ ...ok, status: { kind: 'maybe' } as never }] })).toThrow(/unknown certificate status/);
    expect(() => buildOcspResponse(signer, { producedAt: now, responses: [{ ...ok, certId: { ...certId, der: Buffer.alloc(0) } }] })).toThrow(/certId.der/);
    expect(() => buildOcspResponse(signer, { producedAt: now, responses: [ok], nonce: Buffer.alloc(0) })).toThrow(/nonce/);
    expect(() => buildOcspResponse({ issuer: test.ca } as never, { producedAt: now, responses: [ok] })).toThrow(/must come from ocspSignerForCa/);
    expect(() => ocspErrorResponse('successful' as never)).toThrow(/unknown OCSP response status/);
  });

  it('answers a request (parse, match, sign) fast enough for thousands a second per core', () => {
    const rates: string[] = [];
    const delegateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (const kind of ['P-256', 'P-384', 'RSA'] as const) {
      const test = cas[kind];
      const leaf = createTestLeaf(dir, test.ca, `rate-${kind}`);
      const { der } = requestFile(`rate-${kind}`, '-issuer', test.caFile, '-cert', leaf.file);
      const matches = ocspCertIdMatcher(test.ca);
      const responder = issueOcspResponderCertificate(test.ca, { publicKeySpki: spkiOf(delegateKey.publicKey), commonName: 'Rate responder', validityDays: 1 });
      const signers = [
        { name: `${kind} CA`, signer: ocspSignerForCa(test.ca) },
        { name: `${kind} CA via a P-256 responder`, signer: ocspSignerForDelegate(test.ca, { certificatePem: responder.certificatePem, privateKeyPem: pkcs8Of(delegateKey.privateKey) }) },
      ];
      for (const { name, signer } of kind === 'P-256' ? signers.slice(0, 1) : signers) {
        const answerOne = () => {
          const request = parseOcspRequest(der);
          if (!request.certIds.every(matches)) throw new Error('no match');
          const at = new Date();
          return buildOcspResponse(signer, { producedAt: at, nonce: request.nonce, responses: request.certIds.map((certId) => ({ certId, status: { kind: 'good' }, thisUpdate: at, nextUpdate: new Date(at.getTime() + HOUR_MS) })) });
        };
        for (let i = 0; i < 50; i++) answerOne();
        const count = name === 'RSA CA' ? 200 : 1000;
        const started = performance.now();
        let last: Buffer = Buffer.alloc(0);
        for (let i = 0; i < count; i++) last = answerOne();
        const perSecond = count / ((performance.now() - started) / 1000);
        rates.push(`${name} ${Math.round(perSecond)}/s`);
        const file = dir.write(`rate-${kind}.resp`, last);
        expect({ name, ...check(file, test, '-reqin', dir.file(`rate-${kind}.der`)) }).toEqual({ name, status: 0, output: 'Response verify OK\n' });
        expect(perSecond).toBeGreaterThan(50);
      }
    }
    process.stdout.write(`OCSP answers per second on one core (parse + match + sign, under jest): ${rates.join(', ')}\n`);
  }, 60_000);
});
