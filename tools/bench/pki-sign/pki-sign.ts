// Issuing-CA throughput: end-entity certificates per second from a P-256 issuing CA on one core,
// for issueLeafCertificate alone and for CSR proof-of-possession + issuance, next to the existing
// slower paths for comparison. Prints figures and METRIC lines; asserts nothing about time.
// Usage (bundled with esbuild, see run.sh): node pki-sign.js [ITERATIONS]   (default 5000)
import { cpus } from 'node:os';
import { generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  createIssuingCaRequest,
  createRootCa,
  issueLeafCertificate,
  loadIssuingCa,
  signIntermediate,
  verifyCsr,
  verifyCsrFast,
  x509,
  type IssuingCa,
  type LeafProfile,
} from '../../../libs/pki/src';
import { objectIdentifier, sequence, TAG, tlv, unsignedInteger, utf8String, x509Time } from '../../../libs/pki/src/der/der';

const PROFILE: LeafProfile = {
  commonName: 'app-0001.prod.example.test',
  dnsNames: ['app-0001.prod.example.test', 'app-0001.internal.example.test'],
  ipAddresses: ['10.20.30.40'],
  validityDays: 90,
  usages: ['tls-server', 'tls-client'],
};
const DISTINCT_KEYS = 200; // CSRs are cycled: each iteration signs a different key than the last

interface Timing {
  wallUs: number;
  cpuUs: number;
}

async function time(iterations: number, body: (i: number) => unknown): Promise<Timing> {
  const warmUp = Math.min(500, Math.ceil(iterations / 10));
  for (let i = 0; i < warmUp; i++) await body(i);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await body(i);
  const wallUs = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (used.user + used.system) / iterations };
}

// Only the synchronous bodies get a loop without `await` (an await per call costs a microtask).
function timeSync(iterations: number, body: (i: number) => unknown): Timing {
  const warmUp = Math.min(2000, iterations); // until V8 has optimised the encoding code
  for (let i = 0; i < warmUp; i++) body(i);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) body(i);
  const wallUs = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (used.user + used.system) / iterations };
}

function report(label: string, metric: string, iterations: number, t: Timing): void {
  const perSecond = Math.round(1e6 / t.wallUs);
  console.log(
    `${label.padEnd(58)} ${t.wallUs.toFixed(1).padStart(8)} µs/cert  ${String(perSecond).padStart(6)} certs/s   (CPU ${t.cpuUs.toFixed(1)} µs/cert, ${Math.round(1e6 / t.cpuUs)}/CPU-s; n=${iterations})`,
  );
  console.log(`METRIC ${metric}_certs_per_s ${perSecond}`);
  console.log(`METRIC ${metric}_us_per_cert ${t.wallUs.toFixed(1)}`);
}

async function makeCsrs(count: number): Promise<string[]> {
  const csrs: string[] = [];
  for (let i = 0; i < count; i++) {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=app-${i}.prod.example.test`,
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: `app-${i}.prod.example.test` }])],
    }, webcrypto);
    csrs.push(csr.toString('pem'));
  }
  return csrs;
}

// The TBSCertificate issueLeafCertificate builds, built the way asn1js would: an object tree
// serialised with toBER(). Measures only encoding (no signing), to compare with the DER module.
function asn1jsTbs(serial: Buffer, issuerDer: Buffer, spki: Buffer, ski: Buffer, aki: Buffer, now: Date): ArrayBuffer {
  const ext = (oid: string, critical: boolean, value: asn1js.BaseBlock) =>
    new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: oid }),
        ...(critical ? [new asn1js.Boolean({ value: true })] : []),
        new asn1js.OctetString({ valueHex: value.toBER() }),
      ],
    });
  const raw = (der: Buffer) => asn1js.fromBER(der).result;
  const notAfter = new Date(now.getTime() + 90 * 86_400_000);
  return new asn1js.Sequence({
    value: [
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }),
      new asn1js.Integer({ valueHex: serial }),
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: '1.2.840.10045.4.3.2' })] }),
      raw(issuerDer),
      new asn1js.Sequence({ value: [new asn1js.UTCTime({ valueDate: new Date(now.getTime() - 300_000) }), new asn1js.UTCTime({ valueDate: notAfter })] }),
      new asn1js.Sequence({
        value: [new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: '2.5.4.3' }), new asn1js.Utf8String({ value: PROFILE.commonName })] })] })],
      }),
      raw(spki),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 },
        value: [
          new asn1js.Sequence({
            value: [
              ext('2.5.29.19', true, new asn1js.Sequence({ value: [] })),
              ext('2.5.29.15', true, new asn1js.BitString({ valueHex: new Uint8Array([0x80]).buffer, unusedBits: 7 })),
              ext('2.5.29.37', false, new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: '1.3.6.1.5.5.7.3.1' }), new asn1js.ObjectIdentifier({ value: '1.3.6.1.5.5.7.3.2' })] })),
              ext(
                '2.5.29.17',
                false,
                new asn1js.Sequence({
                  value: [
                    ...PROFILE.dnsNames.map((name) => new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 }, valueHex: Buffer.from(name, 'latin1') })),
                    new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 7 }, valueHex: new Uint8Array([10, 20, 30, 40]).buffer }),
                  ],
                }),
              ),
              ext('2.5.29.14', false, new asn1js.OctetString({ valueHex: ski })),
              ext('2.5.29.35', false, new asn1js.Sequence({ value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: aki })] })),
            ],
          }),
        ],
      }),
    ],
  }).toBER();
}

// The same structure with the hand-written DER module (what issueLeafCertificate does, minus the
// constant parts it precomputes once: here everything is encoded per call, to be fair to asn1js).
function derTbs(serial: Buffer, issuerDer: Buffer, spki: Buffer, ski: Buffer, aki: Buffer, now: Date): Buffer {
  const ext = (oid: string, critical: boolean, value: Buffer) =>
    sequence([objectIdentifier(oid), ...(critical ? [Buffer.from([1, 1, 0xff])] : []), tlv(TAG.OCTET_STRING, [value])]);
  const notAfter = new Date(now.getTime() + 90 * 86_400_000);
  return sequence([
    tlv(0xa0, [unsignedInteger(Buffer.from([2]))]),
    unsignedInteger(serial),
    sequence([objectIdentifier('1.2.840.10045.4.3.2')]),
    issuerDer,
    sequence([x509Time(new Date(now.getTime() - 300_000)), x509Time(notAfter)]),
    sequence([tlv(TAG.SET, [sequence([objectIdentifier('2.5.4.3'), utf8String(PROFILE.commonName!)])])]),
    spki,
    tlv(0xa3, [
      sequence([
        ext('2.5.29.19', true, sequence([])),
        ext('2.5.29.15', true, Buffer.from([3, 2, 7, 0x80])),
        ext('2.5.29.37', false, sequence([objectIdentifier('1.3.6.1.5.5.7.3.1'), objectIdentifier('1.3.6.1.5.5.7.3.2')])),
        ext('2.5.29.17', false, sequence([...PROFILE.dnsNames.map((name) => tlv(0x82, [Buffer.from(name, 'latin1')])), tlv(0x87, [Buffer.from([10, 20, 30, 40])])])),
        ext('2.5.29.14', false, tlv(TAG.OCTET_STRING, [ski])),
        ext('2.5.29.35', false, sequence([tlv(0x80, [aki])])),
      ]),
    ]),
  ]);
}

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 5000);
  if (!Number.isInteger(iterations) || iterations <= 0) throw new Error('usage: pki-sign [ITERATIONS]');
  console.log(`pki-sign: P-256 issuing CA (under a P-384 root), P-256 leaf keys, ${iterations} iterations; node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores`);

  const root = await createRootCa({ commonName: 'Bench Root CA' });
  const request = await createIssuingCaRequest({ commonName: 'Bench Issuing CA', organization: 'Bench' });
  const issuingPem = await signIntermediate(root, request.csrPem);
  const ca: IssuingCa = loadIssuingCa({ certificatePem: issuingPem, privateKeyPem: request.privateKeyPem, chainPem: root.certificatePem });
  const csrs = await makeCsrs(DISTINCT_KEYS);
  const spkis = csrs.map((csr) => verifyCsrFast(csr).publicKeySpki);

  // Sanity (not timing): what the loops produce is a certificate for the CSR's key, signed by the CA.
  const sample = issueLeafCertificate(ca, { publicKeySpki: verifyCsrFast(csrs[1]).publicKeySpki, profile: PROFILE });
  const parsed = new X509Certificate(sample.certificateDer);
  if (!parsed.verify(new X509Certificate(issuingPem).publicKey) || !parsed.publicKey.export({ format: 'der', type: 'spki' }).equals(spkis[1])) {
    throw new Error('the benchmark does not produce valid certificates');
  }
  console.log(`one certificate: ${sample.certificateDer.length} bytes DER, ${ca.signatureAlgorithm}`);

  report('issueLeafCertificate', 'pki_issue', iterations, timeSync(iterations, (i) => issueLeafCertificate(ca, { publicKeySpki: spkis[i % DISTINCT_KEYS], profile: PROFILE })));
  report(
    'verifyCsrFast + issueLeafCertificate (PEM CSR in)',
    'pki_verify_issue',
    iterations,
    timeSync(iterations, (i) => issueLeafCertificate(ca, { publicKeySpki: verifyCsrFast(csrs[i % DISTINCT_KEYS]).publicKeySpki, profile: PROFILE })),
  );
  report('verifyCsrFast alone', 'pki_verify_csr_fast', iterations, timeSync(iterations, (i) => verifyCsrFast(csrs[i % DISTINCT_KEYS])));

  // For comparison: the existing paths (fewer iterations: they are slow).
  const slow = Math.max(100, Math.round(iterations / 5));
  report('verifyCsr alone (authority/csr.ts: @peculiar/x509 + WebCrypto)', 'pki_verify_csr', slow, await time(slow, (i) => verifyCsr(csrs[i % DISTINCT_KEYS])));
  const issuerCert = new x509.X509Certificate(issuingPem);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', Buffer.from(request.privateKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  report(
    'verifyCsr + X509CertificateGenerator (the agent-certificate way)',
    'pki_reference_verify_issue',
    slow,
    await time(slow, async (i) => {
      const csr = await verifyCsr(csrs[i % DISTINCT_KEYS]);
      return x509.X509CertificateGenerator.create({
        serialNumber: '01' + i.toString(16).padStart(30, '0'),
        subject: `CN=${PROFILE.commonName}`,
        issuer: issuerCert.subjectName,
        notBefore: new Date(),
        notAfter: new Date(Date.now() + 90 * 86_400_000),
        publicKey: csr.request.publicKey,
        signingKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.SubjectAlternativeNameExtension(PROFILE.dnsNames.map((value) => ({ type: 'dns' as const, value })))],
      }, webcrypto);
    }),
  );

  // Encoding only: the TBSCertificate with the hand-written DER module vs asn1js 4.
  const serial = Buffer.alloc(16, 0x5a);
  const ski = Buffer.alloc(20, 1);
  const now = new Date();
  const same = Buffer.from(asn1jsTbs(serial, ca.subjectDer, spkis[0], ski, ca.subjectKeyIdentifier, now)).equals(derTbs(serial, ca.subjectDer, spkis[0], ski, ca.subjectKeyIdentifier, now));
  console.log(`TBSCertificate encoding only (identical output: ${same}):`);
  const derTime = timeSync(iterations, (i) => derTbs(serial, ca.subjectDer, spkis[i % DISTINCT_KEYS], ski, ca.subjectKeyIdentifier, now));
  const asnTime = timeSync(iterations, (i) => asn1jsTbs(serial, ca.subjectDer, spkis[i % DISTINCT_KEYS], ski, ca.subjectKeyIdentifier, now));
  console.log(`  hand-written DER (everything per call) ${derTime.wallUs.toFixed(1)} µs;  asn1js ${asnTime.wallUs.toFixed(1)} µs`);
  console.log(`METRIC pki_tbs_der_us ${derTime.wallUs.toFixed(1)}`);
  console.log(`METRIC pki_tbs_asn1js_us ${asnTime.wallUs.toFixed(1)}`);

  // P-384 signing is ~25x slower than P-256 in OpenSSL 3.0 (no optimised P-384 code): show it.
  const p384Request = await createIssuingCaRequest({ commonName: 'Bench P-384 Issuing CA' }, 'P-384');
  const p384 = loadIssuingCa({ certificatePem: await signIntermediate(root, p384Request.csrPem), privateKeyPem: p384Request.privateKeyPem });
  const few = Math.max(100, Math.round(iterations / 10));
  report('issueLeafCertificate, P-384 issuing CA (for comparison)', 'pki_issue_p384', few, timeSync(few, (i) => issueLeafCertificate(p384, { publicKeySpki: spkis[i % DISTINCT_KEYS], profile: PROFILE })));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 });
  const rsaCsr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=Bench RSA Issuing CA',
    keys: {
      privateKey: await webcrypto.subtle.importKey('pkcs8', rsa.privateKey.export({ format: 'der', type: 'pkcs8' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', rsa.publicKey.export({ format: 'der', type: 'spki' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']),
    },
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  }, webcrypto);
  const rsaCa = loadIssuingCa({ certificatePem: await signIntermediate(root, csrPem(rsaCsr.toString('pem'))), privateKeyPem: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  report('issueLeafCertificate, RSA-3072 issuing CA (for comparison)', 'pki_issue_rsa3072', few, timeSync(few, (i) => issueLeafCertificate(rsaCa, { publicKeySpki: spkis[i % DISTINCT_KEYS], profile: PROFILE })));
}

const csrPem = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
