// HTTP-01 answered by the agent: the server sends JobChallenge and waits for JobChallengeReady.
import { JobChallenge_Mode, type JobChallengeReady, type ServerMessage } from '@certfleet/proto';
import type { AcmeChallengeSpec } from './acme-challenge-spec';

export type SendToAgent = (agentId: string, message: ServerMessage) => boolean;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Pending challenges by job and token; an answer for anything else is ignored. */
export class AgentChallenges {
  private readonly waiting = new Map<string, Waiter>();

  constructor(private readonly send: SendToAgent, private readonly timeoutMs = 30_000) {}

  /** Asks the agent to serve the token; resolves once it says it does. */
  present(agentId: string, jobId: string, spec: Extract<AcmeChallengeSpec, { type: 'http-01' }>, token: string, keyAuthorization: string): Promise<void> {
    const key = `${jobId}/${token}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`the agent did not confirm the HTTP-01 challenge within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      this.waiting.get(key)?.reject(new Error('superseded by a new challenge for the same token'));
      this.waiting.set(key, { resolve, reject, timer });
      const sent = this.send(agentId, {
        payload: {
          $case: 'jobChallenge',
          value: {
            jobId,
            token,
            keyAuthorization,
            mode: spec.mode === 'webroot' ? JobChallenge_Mode.MODE_WEBROOT : JobChallenge_Mode.MODE_STANDALONE,
            webroot: spec.mode === 'webroot' ? spec.webroot : '',
            port: spec.mode === 'standalone' ? spec.port : 0,
          },
        },
      });
      if (!sent) this.settle(key, new Error('the agent is not connected to this server: it cannot answer the HTTP-01 challenge now'));
    });
  }

  cleanup(agentId: string, jobId: string, token: string): void {
    this.send(agentId, { payload: { $case: 'jobChallengeCleanup', value: { jobId, token } } });
  }

  /** The agent's answer (from its session). */
  onReady(msg: JobChallengeReady): void {
    this.settle(`${msg.jobId}/${msg.token}`, msg.error ? new Error(`the agent cannot answer the HTTP-01 challenge: ${msg.error}`) : undefined);
  }

  private settle(key: string, error?: Error): void {
    const waiter = this.waiting.get(key);
    if (!waiter) return;
    this.waiting.delete(key);
    clearTimeout(waiter.timer);
    if (error) waiter.reject(error);
    else waiter.resolve();
  }
}
