// The job runner end to end on this host: real keys and CSRs, a real CA signing them (standing in
// for the server's side of the stream), real files, real reload commands and a real TLS server
// whose reload command makes it serve what is on disk.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x509 } from '@certfleet/pki';
import { JobOutcome } from '@certfleet/proto';
import { JobFixture, SERVER_NAME } from './testing/job-fixture';
import { TestPki } from './testing/test-pki';
import { ReloadableTlsServer, servedBy, shq, waitUntilServed } from './testing/tls-servers';

jest.setTimeout(60_000);

const mode = (path: string) => statSync(path).mode & 0o777;
const journalOf = (fx: JobFixture, jobId: string) => JSON.parse(readFileSync(fx.state.path('jobs', `${jobId}.json`), 'utf8'));
const spkiOfKey = (pem: string) => createPublicKey(createPrivateKey(pem)).export({ format: 'der', type: 'spki' }).toString('base64');
const spkiOfCsr = (pem: string) => Buffer.from(new x509.Pkcs10CertificateRequest(pem).publicKey.rawData).toString('base64');

describe('JobRunner with a reloadable TLS server', () => {
  let pki: TestPki;
  let fx: JobFixture;
  let tlsServer: ReloadableTlsServer;

  beforeAll(async () => {
    pki = await TestPki.create();
  });

  beforeEach(async () => {
    fx = await JobFixture.create(pki);
    tlsServer = await ReloadableTlsServer.start(fx.dir, { certFiles: [fx.fullchainPath], keyFile: fx.keyPath });
  });

  afterEach(async () => {
    await tlsServer.close();
    expect(fx.keyMaterialInLogs()).toEqual([]);
    fx.remove();
  });

  it.each(['ec-p256', 'ec-p384', 'rsa-2048'])('%s: installs, reloads, sees the new certificate in a handshake and reports success', async (keyType) => {
    expect((await servedBy(tlsServer.port, SERVER_NAME, fx.rootFile)).serial).toBe(fx.old.serial);
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand(), { keyType });
    const started = Date.now();
    runner.onJob(job);
    await server.settled();

    const issued = server.certificates.get(job.jobId)!.issued;
    expect(server.results).toEqual([
      { jobId: job.jobId, outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, stage: 'done', error: '', installedSerial: issued.serial, durationMs: expect.any(Number) },
    ]);
    expect(server.results[0].durationMs).toBeGreaterThan(0);
    expect(server.results[0].durationMs).toBeLessThanOrEqual(Date.now() - started);
    const served = await servedBy(tlsServer.port, SERVER_NAME, fx.rootFile);
    expect(served).toEqual({ serial: issued.serial, chainLength: 2, verify: '0 (ok)' });
    expect(fx.read(fx.fullchainPath)).toBe(issued.certificatePem + pki.intermediatePem);
    expect(new X509Certificate(fx.read(fx.fullchainPath)).checkPrivateKey(createPrivateKey(fx.read(fx.keyPath)))).toBe(true);
    expect(createPrivateKey(fx.read(fx.keyPath)).asymmetricKeyType).toBe(keyType.startsWith('rsa') ? 'rsa' : 'ec');
    // commit keeps the previous version for a manual revert
    expect(fx.read(`${fx.fullchainPath}.certfleet-bak`)).toBe(fx.oldFullchain);
    expect(mode(fx.keyPath)).toBe(0o600);
    expect(tlsServer.runs).toBe(1);
    expect(fx.installedCalls).toBe(1);
    // acknowledged: the job key is gone from the journal dir, a tombstone remains
    expect(existsSync(fx.state.path('jobs', `${job.jobId}.key`))).toBe(false);
    expect(journalOf(fx, job.jobId)).toMatchObject({ jobId: job.jobId, stage: 'done', outcome: 'JOB_OUTCOME_SUCCEEDED', finishedAt: expect.any(String) });
  });

  it('stores the key 0600 in a 0700 journal dir before the CSR leaves, and the CSR is for that key', async () => {
    const server = fx.server({ sign: false, ack: false });
    const runner = fx.runner(server);
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
    runner.onJob(job);
    await server.settled();

    expect(server.csrs).toHaveLength(1);
    const keyFile = fx.state.path('jobs', `${job.jobId}.key`);
    const journalFile = fx.state.path('jobs', `${job.jobId}.json`);
    expect(mode(fx.state.path('jobs'))).toBe(0o700);
    expect(mode(keyFile)).toBe(0o600);
    expect(mode(journalFile)).toBe(0o600);
    expect(spkiOfCsr(server.csrs[0].csrPem)).toBe(spkiOfKey(readFileSync(keyFile, 'utf8')));
    expect(journalOf(fx, job.jobId)).toMatchObject({ stage: 'csr-sent', csrPem: server.csrs[0].csrPem });
    expect(readFileSync(journalFile, 'utf8')).not.toContain('PRIVATE KEY');
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
  });

  it('rolls back when the reload command fails, reloads the previous files and the server serves the old certificate', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    // Reloads (so the server briefly serves the new certificate), then fails.
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand('echo "reload: config test failed" >&2; exit 1'));
    runner.onJob(job);
    await server.settled();

    expect(server.results).toHaveLength(1);
    expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'reload', installedSerial: '' });
    expect(server.results[0].error).toMatch(/^reload failed: reload command failed with exit code 1; stderr: reload: config test failed; previous files restored, but reloading them failed: reload command failed with exit code 1/);
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect(fx.read(fx.keyPath)).toBe(fx.old.privateKeyPem);
    expect(existsSync(`${fx.fullchainPath}.certfleet-bak`)).toBe(false);
    expect(tlsServer.runs).toBe(2); // once for the new files, once for the restored ones
    expect(await waitUntilServed(tlsServer.port, SERVER_NAME, fx.rootFile, fx.old.serial)).toMatchObject({ serial: fx.old.serial, verify: '0 (ok)' });
    expect(fx.installedCalls).toBe(0);
  });

  it('kills a reload command that outlives its timeout and rolls back', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    const marker = join(fx.dir, 'reload-started');
    const job = fx.job(tlsServer.port, `touch ${shq(marker)}; sleep 60`, { reload: { command: `touch ${shq(marker)}; sleep 60`, timeoutSeconds: 1 } });
    const started = Date.now();
    runner.onJob(job);
    await server.settled();

    expect(existsSync(marker)).toBe(true);
    expect(server.results).toHaveLength(1);
    expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'reload' });
    expect(server.results[0].error).toMatch(/^reload failed: reload command timed out after 1000 ms and was killed \(signal SIGTERM\)/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect((await servedBy(tlsServer.port, SERVER_NAME, fx.rootFile)).serial).toBe(fx.old.serial);
  });

  it('rolls back when the server does not send the intermediate (the served chain does not reach the root)', async () => {
    // pem-files with a separate chain file, but this server is configured with the certificate file only.
    await tlsServer.close();
    const certPath = join(fx.tlsDir, 'cert.pem');
    const chainPath = join(fx.tlsDir, 'chain.pem');
    writeFileSync(certPath, fx.old.certificatePem);
    writeFileSync(chainPath, pki.intermediatePem);
    tlsServer = await ReloadableTlsServer.start(fx.dir, { certFiles: [certPath], keyFile: fx.keyPath });
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand(), {
      targets: [{ kind: { $case: 'pemFiles', value: { certPath, keyPath: fx.keyPath, chainPath } } }],
      validation: { host: '127.0.0.1', port: tlsServer.port, serverName: SERVER_NAME, timeoutSeconds: 2 },
    });
    runner.onJob(job);
    await server.settled();

    expect(server.results).toHaveLength(1);
    const [result] = server.results;
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'validate' });
    expect(result.error).toContain(`127.0.0.1:${tlsServer.port} (SNI ${SERVER_NAME}) after`);
    expect(result.error).toContain('the served chain does not lead to the root');
    expect(result.error).toContain('was not issued by');
    expect(result.error).toMatch(/previous files restored and reloaded$/);
    expect(fx.read(certPath)).toBe(fx.old.certificatePem);
    expect(tlsServer.runs).toBe(2);
    expect(await waitUntilServed(tlsServer.port, SERVER_NAME, fx.rootFile, fx.old.serial)).toMatchObject({ serial: fx.old.serial });
  });

  it('changes nothing when the job and the certificate are delivered again', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
    runner.onJob(job);
    runner.onJob(job); // duplicate while the first is still being prepared
    await server.settled();
    expect(server.results).toHaveLength(1);
    const [first] = server.results;
    expect(first.outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    const installed = statSync(fx.fullchainPath);

    const certificate = await server.certificateMessage(server.csrs[0]);
    runner.onCertificate(certificate);
    runner.onCertificate(certificate);
    runner.onJob(job);
    await server.settled();

    // one key, one CSR (resent, never regenerated), one certificate, one install, one reload
    expect(new Set(server.csrs.map((c) => c.csrPem)).size).toBe(1);
    expect(server.certificates.size).toBe(1);
    expect(tlsServer.runs).toBe(1);
    expect(fx.installedCalls).toBe(1);
    const after = statSync(fx.fullchainPath);
    expect([after.ino, after.mtimeMs]).toEqual([installed.ino, installed.mtimeMs]);
    expect(fx.read(`${fx.fullchainPath}.certfleet-bak`)).toBe(fx.oldFullchain);
    // replays are answered with the same result, never with new work
    expect(server.results.length).toBeGreaterThan(1);
    for (const result of server.results) expect(result).toEqual(first);
  });

  it('resends the pending CSR after a restart, the same CSR for the same key', async () => {
    const server = fx.server({ sign: false });
    fx.runner(server).onJob(fx.job(tlsServer.port, tlsServer.reloadCommand()));
    await server.settled();
    const restarted = fx.server();
    const runner = fx.runner(restarted);
    runner.resume();
    await restarted.settled();

    expect(restarted.csrs).toEqual(server.csrs);
    expect(restarted.results).toHaveLength(1);
    expect(restarted.results[0].outcome).toBe(JobOutcome.JOB_OUTCOME_SUCCEEDED);
    expect((await servedBy(tlsServer.port, SERVER_NAME, fx.rootFile)).serial).toBe(restarted.certificates.values().next().value!.issued.serial);
  });

  it('resends an unacknowledged result on resume, and forgets the job key only after the ack', async () => {
    const server = fx.server({ ack: false });
    const runner = fx.runner(server);
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
    runner.onJob(job);
    await server.settled();
    expect(server.results).toHaveLength(1);
    expect(existsSync(fx.state.path('jobs', `${job.jobId}.key`))).toBe(true);

    runner.resume(); // a reconnect
    await server.settled();
    expect(server.results).toEqual([server.results[0], server.results[0]]);
    expect(tlsServer.runs).toBe(1);

    runner.onResultAck({ jobId: job.jobId });
    await runner.idle();
    expect(existsSync(fx.state.path('jobs', `${job.jobId}.key`))).toBe(false);
    expect(journalOf(fx, job.jobId)).toMatchObject({ stage: 'done', outcome: 'JOB_OUTCOME_SUCCEEDED' });
    runner.resume();
    await server.settled();
    expect(server.results).toHaveLength(2); // nothing pending any more
  });

  it('converges after a crash between writing the files and the reload', async () => {
    const first = fx.server();
    const crashed = fx.runner(first, { haltAfterStage: 'installed' });
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
    crashed.onJob(job);
    await first.settled();
    const issued = first.certificates.get(job.jobId)!.issued;
    expect(first.results).toEqual([]);
    expect(journalOf(fx, job.jobId).stage).toBe('installed');
    expect(fx.read(fx.fullchainPath)).toBe(issued.certificatePem + pki.intermediatePem);
    expect(tlsServer.runs).toBe(0);
    expect((await servedBy(tlsServer.port, SERVER_NAME, fx.rootFile)).serial).toBe(fx.old.serial);

    const second = fx.server();
    const restarted = fx.runner(second);
    restarted.resume();
    restarted.resume(); // a quick reconnect must not start the recovery twice
    await second.settled();

    expect(second.results).toEqual([
      { jobId: job.jobId, outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, stage: 'done', error: '', installedSerial: issued.serial, durationMs: expect.any(Number) },
    ]);
    expect(second.csrs).toEqual([]);
    expect(tlsServer.runs).toBe(1);
    expect(await servedBy(tlsServer.port, SERVER_NAME, fx.rootFile)).toEqual({ serial: issued.serial, chainLength: 2, verify: '0 (ok)' });
    expect(fx.read(`${fx.fullchainPath}.certfleet-bak`)).toBe(fx.oldFullchain);

    // the certificate delivered again after the restart changes nothing
    restarted.onCertificate(await first.certificateMessage(first.csrs[0]));
    await second.settled();
    expect(tlsServer.runs).toBe(1);
    expect(new Set(second.results.map((r) => JSON.stringify(r))).size).toBe(1);
  });

  it('after a crash in the middle of writing, restores the previous files, reloads them and reports ROLLED_BACK', async () => {
    const first = fx.server();
    const crashed = fx.runner(first, { haltAfterStage: 'installing' });
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
    crashed.onJob(job);
    await first.settled();
    expect(journalOf(fx, job.jobId).stage).toBe('installing');
    // As installFiles leaves it when the process dies after the first of two files: the
    // fullchain replaced (its previous version in the backup), the key not yet.
    const issued = first.certificates.get(job.jobId)!.issued;
    writeFileSync(`${fx.fullchainPath}.certfleet-bak`, fx.oldFullchain);
    writeFileSync(fx.fullchainPath, issued.certificatePem + pki.intermediatePem);

    const second = fx.server();
    const restarted = fx.runner(second);
    restarted.resume();
    await second.settled();

    expect(second.results).toHaveLength(1);
    expect(second.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'install' });
    expect(second.results[0].error).toContain(`the agent stopped while writing the files (1 of 2 in place; not: ${fx.keyPath})`);
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect(fx.read(fx.keyPath)).toBe(fx.old.privateKeyPem);
    expect(existsSync(`${fx.fullchainPath}.certfleet-bak`)).toBe(false); // made by the install, so removed
    expect(tlsServer.runs).toBe(1);
    expect(await waitUntilServed(tlsServer.port, SERVER_NAME, fx.rootFile, fx.old.serial)).toMatchObject({ serial: fx.old.serial });
  });

  it('finishes a rollback that a crash interrupted, reporting the original failure', async () => {
    const first = fx.server();
    const crashed = fx.runner(first, { haltAfterStage: 'rolling-back' });
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand('exit 4'));
    crashed.onJob(job);
    await first.settled();
    expect(first.results).toEqual([]);
    expect(journalOf(fx, job.jobId)).toMatchObject({ stage: 'rolling-back', rollback: { stage: 'reload' } });
    expect(fx.read(fx.fullchainPath)).not.toBe(fx.oldFullchain); // the new files are still there

    const second = fx.server();
    fx.runner(second).resume();
    await second.settled();

    expect(second.results).toHaveLength(1);
    expect(second.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'reload' });
    expect(second.results[0].error).toMatch(/^reload failed: reload command failed with exit code 4; previous files restored, but reloading them failed/);
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect(fx.read(fx.keyPath)).toBe(fx.old.privateKeyPem);
    expect(tlsServer.runs).toBe(2);
    expect(await waitUntilServed(tlsServer.port, SERVER_NAME, fx.rootFile, fx.old.serial)).toMatchObject({ serial: fx.old.serial });
  });

  it('reports FAILED at rollback, naming the path, when the previous version cannot be put back', async () => {
    const first = fx.server();
    const crashed = fx.runner(first, { haltAfterStage: 'rolling-back' });
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand('exit 1'));
    crashed.onJob(job);
    await first.settled();
    // Someone removed the backup that holds the previous fullchain.
    rmSync(`${fx.fullchainPath}.certfleet-bak`);

    const second = fx.server();
    fx.runner(second).resume();
    await second.settled();

    expect(second.results).toHaveLength(1);
    expect(second.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, stage: 'rollback' });
    expect(second.results[0].error).toContain('reload failed: reload command failed with exit code 1; restoring the previous files failed: ');
    expect(second.results[0].error).toContain(`${fx.fullchainPath}: ${fx.fullchainPath} holds neither the recorded version`);
    expect(second.results[0].error).not.toContain(`${fx.keyPath}:`);
    expect(fx.read(fx.keyPath)).toBe(fx.old.privateKeyPem); // what could be restored was
    expect(tlsServer.runs).toBe(1); // no reload of a half-restored set
  });

  it('refuses hostile job ids without touching the disk outside its journal dir', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    const hostile = ['../../escape', '..', '.', 'a/b', '', '.hidden', `x${'y'.repeat(200)}`, 'a\u0000b', 'a b', '%2e%2e'];
    const before = readdirSync(fx.dir).sort();
    for (const jobId of hostile) {
      runner.onJob(fx.job(tlsServer.port, tlsServer.reloadCommand(), { jobId }));
      runner.onCertificate({ jobId, certificatePem: fx.old.certificatePem, chainPem: '', rootPem: pki.rootPem });
      runner.onRejected({ jobId, reasons: ['x'] });
      runner.onResultAck({ jobId });
    }
    await server.settled();

    expect(server.csrs).toEqual([]);
    expect(server.results.map((r) => [r.jobId, r.outcome, r.stage])).toEqual(hostile.map((id) => [id, JobOutcome.JOB_OUTCOME_FAILED, 'key']));
    expect(readdirSync(fx.dir).sort()).toEqual(before);
    expect(existsSync(fx.state.path('jobs')) ? readdirSync(fx.state.path('jobs')) : []).toEqual([]);
    expect(existsSync(join(fx.dir, '..', 'escape.json'))).toBe(false);
    expect(tlsServer.runs).toBe(0);
  });

  it('reports FAILED at csr when the server rejects the job, and ignores a certificate that comes anyway', async () => {
    const server = fx.server({ sign: false });
    const runner = fx.runner(server);
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
    runner.onJob(job);
    await server.settled();
    runner.onRejected({ jobId: job.jobId, reasons: ['CSR asks for a name the profile does not allow', 'policy: RSA 2048 too small'] });
    runner.onRejected({ jobId: job.jobId, reasons: ['again'] });
    await server.settled();

    expect(server.results).toHaveLength(1);
    expect(server.results[0]).toMatchObject({
      outcome: JobOutcome.JOB_OUTCOME_FAILED,
      stage: 'csr',
      error: 'the server rejected the job: CSR asks for a name the profile does not allow; policy: RSA 2048 too small',
    });
    runner.onCertificate(await server.certificateMessage(server.csrs[0]));
    await server.settled();
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect(tlsServer.runs).toBe(0);
    expect(server.results.every((r) => r.outcome === JobOutcome.JOB_OUTCOME_FAILED)).toBe(true);
  });

  describe('refuses a bad certificate before writing anything', () => {
    it('one that does not chain to the root', async () => {
      const other = await TestPki.impostor();
      const server = fx.server({ tamper: (msg) => ({ ...msg, rootPem: other.rootPem }) });
      const runner = fx.runner(server);
      const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
      runner.onJob(job);
      await server.settled();
      expect(server.results).toHaveLength(1);
      expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, stage: 'certificate' });
      expect(server.results[0].error).toMatch(/^the certificate does not chain to the root: intermediate 1 .* was not issued by .*Jobs Test Root/);
      expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
      expect(tlsServer.runs).toBe(0);
    });

    it('one for another key', async () => {
      const server = fx.server({ tamper: (msg) => ({ ...msg, certificatePem: fx.old.certificatePem }) });
      const runner = fx.runner(server);
      runner.onJob(fx.job(tlsServer.port, tlsServer.reloadCommand()));
      await server.settled();
      expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, stage: 'certificate' });
      expect(server.results[0].error).toMatch(/^the certificate serial [0-9a-f]+ .* is not for the key this host generated for the job$/);
      expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    });

    it('garbage', async () => {
      const server = fx.server({ tamper: (msg) => ({ ...msg, certificatePem: 'hello' }) });
      const runner = fx.runner(server);
      runner.onJob(fx.job(tlsServer.port, tlsServer.reloadCommand()));
      await server.settled();
      expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, stage: 'certificate', error: 'certificate: unexpected text outside CERTIFICATE blocks' });
    });
  });

  it('reports FAILED at install for targets it cannot install, without asking for a certificate or writing', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    const noKind = fx.job(tlsServer.port, tlsServer.reloadCommand(), { targets: [{ kind: undefined }] });
    const relative = fx.job(tlsServer.port, tlsServer.reloadCommand(), {
      targets: [{ kind: { $case: 'fullchainPem', value: { path: 'tls/fullchain.pem', keyPath: fx.keyPath } } }],
    });
    runner.onJob(noKind);
    runner.onJob(relative);
    await server.settled();

    expect(server.results.map((r) => [r.jobId, r.outcome, r.stage, r.error])).toEqual([
      [noKind.jobId, JobOutcome.JOB_OUTCOME_FAILED, 'install', 'install target 1 has no kind this agent knows'],
      [relative.jobId, JobOutcome.JOB_OUTCOME_FAILED, 'install', 'install path must be absolute and normalised: tls/fullchain.pem'],
    ]);
    expect(server.csrs.map((c) => c.jobId)).toEqual([relative.jobId]);
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect(fx.read(fx.keyPath)).toBe(fx.old.privateKeyPem);
    expect(tlsServer.runs).toBe(0);
  });

  it('reports FAILED at key for a key type it does not make', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    runner.onJob(fx.job(tlsServer.port, tlsServer.reloadCommand(), { keyType: 'dsa-1024' }));
    await server.settled();
    expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_FAILED, stage: 'key' });
    expect(server.results[0].error).toMatch(/^unsupported key type "dsa-1024"/);
    expect(server.csrs).toEqual([]);
  });

  it('runs jobs one at a time in arrival order', async () => {
    const events = join(fx.dir, 'events');
    writeFileSync(events, '');
    const command = (name: string) => `echo "${name} start" >> ${shq(events)}; sleep 0.3; echo "${name} end" >> ${shq(events)}`;
    const server = fx.server();
    const runner = fx.runner(server);
    const jobs = ['a', 'b', 'c'].map((name) => {
      const dir = join(fx.tlsDir, name);
      return fx.job(0, command(name), {
        name,
        targets: [{ kind: { $case: 'combinedPem', value: { path: `${dir}-combined.pem` } } }],
        validation: undefined,
      });
    });
    for (const job of jobs) runner.onJob(job);
    await server.settled();

    expect(readFileSync(events, 'utf8')).toBe('a start\na end\nb start\nb end\nc start\nc end\n');
    expect(server.results.map((r) => [r.jobId, r.outcome])).toEqual(jobs.map((j) => [j.jobId, JobOutcome.JOB_OUTCOME_SUCCEEDED]));
    expect(mode(`${join(fx.tlsDir, 'a')}-combined.pem`)).toBe(0o600);
  });

  it('answers a replayed finished job from its tombstone, and forgets tombstones after 30 days', async () => {
    let now = new Date();
    const server = fx.server();
    const runner = fx.runner(server, { now: () => now });
    const job = fx.job(tlsServer.port, tlsServer.reloadCommand());
    runner.onJob(job);
    await server.settled();
    const [result] = server.results;

    runner.onJob(job);
    await server.settled();
    expect(server.results).toEqual([result, result]);
    expect(server.csrs).toHaveLength(1);
    expect(tlsServer.runs).toBe(1);

    now = new Date(now.getTime() + 29 * 24 * 3600_000);
    runner.resume();
    expect(journalOf(fx, job.jobId).stage).toBe('done');
    now = new Date(now.getTime() + 2 * 24 * 3600_000);
    runner.resume();
    expect(readdirSync(fx.state.path('jobs'))).toEqual([]);
  });
});
