// The job runner against a real nginx (the Debian package): the job installs nginx's fullchain and
// key, reloads it with `nginx -s reload` (asynchronous: new workers start after the command
// returns) and validates by handshake; failures put the previous files back and reload again.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { JobOutcome } from '@certfleet/proto';
import { JobFixture, SERVER_NAME } from './testing/job-fixture';
import { TestPki } from './testing/test-pki';
import { NGINX, servedBy, TestNginx, waitUntilServed } from './testing/tls-servers';
import { RETRY_INTERVAL_MS } from './tls-validation';

jest.setTimeout(60_000);

describe('JobRunner with nginx', () => {
  let pki: TestPki;
  let fx: JobFixture;
  let nginx: TestNginx;

  beforeAll(async () => {
    expect(existsSync(NGINX)).toBe(true); // tools/test/ensure-debian-packages.sh installs it
    pki = await TestPki.create('Nginx Test');
    fx = await JobFixture.create(pki, 'jobs-nginx-');
    nginx = await TestNginx.start(join(fx.dir, 'nginx'), { serverName: SERVER_NAME, certificatePath: fx.fullchainPath, keyPath: fx.keyPath });
  });

  afterAll(async () => {
    await nginx?.stop();
    fx?.remove();
  });

  beforeEach(async () => {
    // Every test starts from nginx serving the old certificate and an empty agent state.
    fx.writeOldFiles();
    rmSync(fx.state.root, { recursive: true, force: true });
    execFileSync('/bin/sh', ['-c', nginx.reloadCommand]);
    expect((await waitUntilServed(nginx.port, SERVER_NAME, fx.rootFile, fx.old.serial)).serial).toBe(fx.old.serial);
    await nginx.settled(); // no worker of an earlier configuration left to answer
  });

  afterEach(() => {
    expect(fx.keyMaterialInLogs()).toEqual([]);
  });

  it('installs, reloads nginx and validates: nginx serves the new certificate with a chain to the root', async () => {
    const pidBefore = nginx.pid;
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(nginx.port, nginx.reloadCommand);
    runner.onJob(job);
    await server.settled();

    const issued = server.certificates.get(job.jobId)!.issued;
    expect(server.results).toEqual([
      { jobId: job.jobId, outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, stage: 'done', error: '', installedSerial: issued.serial, durationMs: expect.any(Number) },
    ]);
    // After a reload the old worker may still take a connection for a moment: wait for nginx to settle.
    expect(await waitUntilServed(nginx.port, SERVER_NAME, fx.rootFile, issued.serial)).toEqual({ serial: issued.serial, chainLength: 2, verify: '0 (ok)' });
    expect(nginx.pid).toBe(pidBefore); // reloaded, not restarted
    expect(fx.read(`${fx.fullchainPath}.certfleet-bak`)).toBe(fx.oldFullchain);
  });

  it('rolls back when the reload command fails: the files and nginx stay on the old certificate', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(nginx.port, 'echo "nginx: configuration test failed" >&2; exit 1');
    runner.onJob(job);
    await server.settled();

    expect(server.results).toHaveLength(1);
    expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'reload', installedSerial: '' });
    expect(server.results[0].error).toMatch(/^reload failed: reload command failed with exit code 1; stderr: nginx: configuration test failed; previous files restored/);
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect(fx.read(fx.keyPath)).toBe(fx.old.privateKeyPem);
    expect(await servedBy(nginx.port, SERVER_NAME, fx.rootFile)).toEqual({ serial: fx.old.serial, chainLength: 2, verify: '0 (ok)' });
  });

  it('rolls back when nginx keeps serving the old certificate (reload command `true`), naming what it served', async () => {
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(nginx.port, 'true', { validation: { host: '127.0.0.1', port: nginx.port, serverName: SERVER_NAME, timeoutSeconds: 2 } });
    const started = Date.now();
    runner.onJob(job);
    await server.settled();

    const issued = server.certificates.get(job.jobId)!.issued;
    expect(server.results).toHaveLength(1);
    const [result] = server.results;
    expect(result).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'validate' });
    expect(result.error).toContain(`validate failed: 127.0.0.1:${nginx.port} (SNI ${SERVER_NAME}) after`);
    expect(result.error).toContain(`the server serves serial ${fx.old.serial} (subject CN=${SERVER_NAME}`);
    expect(result.error).toContain(`instead of the new serial ${issued.serial}`);
    expect(result.error).toMatch(/previous files restored and reloaded$/);
    // Retried for the whole 2 s window (the last retry is skipped when it would end past the deadline).
    expect(result.durationMs).toBeGreaterThanOrEqual(2000 - RETRY_INTERVAL_MS);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect((await servedBy(nginx.port, SERVER_NAME, fx.rootFile)).serial).toBe(fx.old.serial);
  });

  it('rolls back and reloads nginx again when the new certificate was served but validation fails', async () => {
    // Validation with a name the certificate is not for: nginx did load the new files, so the
    // rollback must reload nginx for it to serve the old certificate again.
    const server = fx.server();
    const runner = fx.runner(server);
    const job = fx.job(nginx.port, nginx.reloadCommand, {
      validation: { host: '127.0.0.1', port: nginx.port, serverName: 'other.example.test', timeoutSeconds: 2 },
    });
    runner.onJob(job);
    await server.settled();

    expect(server.results[0]).toMatchObject({ outcome: JobOutcome.JOB_OUTCOME_ROLLED_BACK, stage: 'validate' });
    expect(server.results[0].error).toContain('the served certificate is not valid for other.example.test');
    expect(fx.read(fx.fullchainPath)).toBe(fx.oldFullchain);
    expect((await waitUntilServed(nginx.port, SERVER_NAME, fx.rootFile, fx.old.serial)).serial).toBe(fx.old.serial);
  });

  it('converges after a crash between writing the files and reloading nginx', async () => {
    const first = fx.server();
    fx.runner(first, { haltAfterStage: 'installed' }).onJob(fx.job(nginx.port, nginx.reloadCommand));
    await first.settled();
    const [[jobId, { issued }]] = [...first.certificates.entries()];
    expect(first.results).toEqual([]);
    expect(fx.read(fx.fullchainPath)).toBe(issued.certificatePem + pki.intermediatePem);
    expect((await servedBy(nginx.port, SERVER_NAME, fx.rootFile)).serial).toBe(fx.old.serial); // written, not reloaded

    const second = fx.server();
    const restarted = fx.runner(second);
    restarted.resume();
    await second.settled();

    expect(second.results).toEqual([
      { jobId, outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, stage: 'done', error: '', installedSerial: issued.serial, durationMs: expect.any(Number) },
    ]);
    expect(await waitUntilServed(nginx.port, SERVER_NAME, fx.rootFile, issued.serial)).toEqual({ serial: issued.serial, chainLength: 2, verify: '0 (ok)' });
    expect(JSON.parse(readFileSync(fx.state.path('jobs', `${jobId}.json`), 'utf8'))).toMatchObject({ stage: 'done', outcome: 'JOB_OUTCOME_SUCCEEDED' });
  });
});
