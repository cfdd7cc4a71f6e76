// The job runner's side of ACME HTTP-01: only for a job of this agent waiting for its certificate,
// answered over real HTTP, taken away on cleanup.
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { JobChallenge_Mode, type JobChallengeReady } from '@certfleet/proto';
import { JobFixture } from '../testing/job-fixture';
import { TestPki } from '../testing/test-pki';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('JobRunner HTTP-01 challenges', () => {
  let pki: TestPki;
  let fx: JobFixture;
  beforeAll(async () => {
    pki = await TestPki.create();
  });
  beforeEach(async () => {
    fx = await JobFixture.create(pki);
  });
  afterEach(() => fx.remove());

  async function waitingJob() {
    const readies: JobChallengeReady[] = [];
    const server = Object.assign(fx.server({ sign: false }), { sendChallengeReady: (m: JobChallengeReady) => readies.push(m) });
    const runner = fx.runner(server, { challengeListenHost: '127.0.0.1' });
    const job = fx.job(1, '');
    runner.onJob(job);
    await runner.idle();
    expect(server.csrs).toHaveLength(1);
    const ready = async (count: number) => {
      for (let i = 0; i < 100 && readies.length < count; i++) await new Promise((r) => setTimeout(r, 20));
      return readies;
    };
    return { runner, job, ready };
  }

  it('standalone: serves the key authorization while the job waits for its certificate, then closes', async () => {
    const { runner, job, ready } = await waitingJob();
    const port = await freePort();
    runner.onChallenge({ jobId: job.jobId, token: 'tok', keyAuthorization: 'tok.thumb', mode: JobChallenge_Mode.MODE_STANDALONE, webroot: '', port });
    expect(await ready(1)).toEqual([{ jobId: job.jobId, token: 'tok', error: '' }]);
    expect(await (await fetch(`http://127.0.0.1:${port}/.well-known/acme-challenge/tok`)).text()).toBe('tok.thumb');
    runner.onChallengeCleanup({ jobId: job.jobId, token: 'tok' });
    await new Promise((r) => setTimeout(r, 100));
    await expect(fetch(`http://127.0.0.1:${port}/.well-known/acme-challenge/tok`)).rejects.toThrow();
  });

  it('refuses a challenge for a job it is not waiting on, and says why', async () => {
    const { runner, ready } = await waitingJob();
    const webroot = join(fx.dir, 'www');
    runner.onChallenge({ jobId: 'not-a-job-here', token: 'tok', keyAuthorization: 'tok.thumb', mode: JobChallenge_Mode.MODE_WEBROOT, webroot, port: 0 });
    expect(await ready(1)).toEqual([{ jobId: 'not-a-job-here', token: 'tok', error: 'job not-a-job-here is not waiting for a certificate on this agent' }]);
    expect(existsSync(webroot)).toBe(false);
  });
});
