// The proto install targets as @certfleet/targets specs, and a job that installs every kind at
// once, read back by openssl and keytool.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { JobOutcome } from '@certfleet/proto';
import { targetSpecs } from './target-specs';
import { JobFixture } from './testing/job-fixture';
import { TestPki } from './testing/test-pki';

jest.setTimeout(60_000);

describe('targetSpecs', () => {
  it('maps every kind, leaving optional fields out when empty', () => {
    expect(
      targetSpecs([
        { kind: { $case: 'pemFiles', value: { certPath: '/c', keyPath: '/k', chainPath: '' } } },
        { kind: { $case: 'pemFiles', value: { certPath: '/c2', keyPath: '/k2', chainPath: '/ch' } } },
        { kind: { $case: 'fullchainPem', value: { path: '/f', keyPath: '/fk' } } },
        { kind: { $case: 'combinedPem', value: { path: '/cb' } } },
        { kind: { $case: 'pkcs12', value: { path: '/p', password: 'pw', alias: '' } } },
        { kind: { $case: 'pkcs12', value: { path: '/p2', password: 'pw', alias: 'web' } } },
        { kind: { $case: 'javaKeystore', value: { path: '/j', storePassword: 'sp', alias: '', keyPassword: '' } } },
        { kind: { $case: 'javaKeystore', value: { path: '/j2', storePassword: 'sp', alias: 'tomcat', keyPassword: 'kp' } } },
      ]),
    ).toEqual([
      { kind: 'pem-files', certPath: '/c', keyPath: '/k' },
      { kind: 'pem-files', certPath: '/c2', keyPath: '/k2', chainPath: '/ch' },
      { kind: 'fullchain-pem', path: '/f', keyPath: '/fk' },
      { kind: 'combined-pem', path: '/cb' },
      { kind: 'pkcs12', path: '/p', password: 'pw' },
      { kind: 'pkcs12', path: '/p2', password: 'pw', alias: 'web' },
      { kind: 'java-keystore', path: '/j', storePassword: 'sp' },
      { kind: 'java-keystore', path: '/j2', storePassword: 'sp', alias: 'tomcat', keyPassword: 'kp' },
    ]);
  });

  it('refuses a job without targets or with a target of no known kind', () => {
    expect(() => targetSpecs([])).toThrow('the job has no install targets');
    expect(() => targetSpecs([{ kind: { $case: 'combinedPem', value: { path: '/x' } } }, { kind: undefined }])).toThrow(
      'install target 2 has no kind this agent knows',
    );
  });
});

describe('a job with every target kind', () => {
  let fx: JobFixture;
  beforeAll(async () => {
    fx = await JobFixture.create(await TestPki.create('Kinds Test'), 'jobs-kinds-');
  });
  afterAll(() => fx.remove());

  it('installs them all as one transaction, each readable by the standard tools', async () => {
    const p = (name: string) => join(fx.tlsDir, name);
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(0, '', {
      keyType: 'rsa-2048',
      validation: undefined,
      reload: undefined,
      targets: [
        { kind: { $case: 'pemFiles', value: { certPath: p('cert.pem'), keyPath: p('cert.key'), chainPath: p('chain.pem') } } },
        { kind: { $case: 'combinedPem', value: { path: p('haproxy.pem') } } },
        { kind: { $case: 'pkcs12', value: { path: p('site.p12'), password: 'p12-secret', alias: 'site' } } },
        { kind: { $case: 'javaKeystore', value: { path: p('site.jks'), storePassword: 'store-secret', alias: 'tomcat', keyPassword: '' } } },
      ],
    });
    runner.onJob(job);
    await server.settled();

    const issued = server.certificates.get(job.jobId)!.issued;
    expect(server.results).toEqual([
      { jobId: job.jobId, outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, stage: 'done', error: '', installedSerial: issued.serial, durationMs: expect.any(Number) },
    ]);
    expect(fx.read(p('cert.pem'))).toBe(issued.certificatePem);
    expect(fx.read(p('chain.pem'))).toBe(fx.pki.intermediatePem);
    expect(createPrivateKey(fx.read(p('cert.key'))).asymmetricKeyDetails?.modulusLength).toBe(2048);
    for (const secret of ['cert.key', 'haproxy.pem', 'site.p12', 'site.jks']) expect(statSync(p(secret)).mode & 0o777).toBe(0o600);

    const p12 = execFileSync('openssl', ['pkcs12', '-in', p('site.p12'), '-passin', 'pass:p12-secret', '-nokeys'], { encoding: 'utf8' });
    expect(new X509Certificate(p12.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0]).serialNumber.toLowerCase()).toBe(issued.serial);
    expect(p12).toContain('friendlyName: site');
    const jks = execFileSync('keytool', ['-list', '-v', '-keystore', p('site.jks'), '-storepass', 'store-secret', '-storetype', 'JKS'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(jks).toContain('Alias name: tomcat');
    expect(jks).toContain('Entry type: PrivateKeyEntry');
    expect(jks).toContain('Certificate chain length: 2');
    expect(jks.toLowerCase()).toContain(`serial number: ${issued.serial.replace(/^0+/, '')}`);
    expect(readFileSync(p('haproxy.pem'), 'utf8')).toBe(issued.certificatePem + fx.pki.intermediatePem + fx.read(p('cert.key')));
  });
});
