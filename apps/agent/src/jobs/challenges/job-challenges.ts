// ACME HTTP-01 for jobs waiting for their certificate: the server sends JobChallenge, the agent
// serves the token (webroot file or a listener of its own) and answers JobChallengeReady. Not
// queued behind installs: the CA is waiting.
import { JobChallenge, JobChallenge_Mode, JobChallengeCleanup, JobChallengeReady } from '@certfleet/proto';
import type { Logger } from '../../log';
import { isValidJobId, JournalEntry } from '../journal';
import { Http01Responder } from './http01-responder';

export interface JobChallengesOptions {
  log: Logger;
  /** The job's journal entry; null when it cannot be read (already logged). */
  journalOf(jobId: string): JournalEntry | undefined | null;
  /** Sends the answer; a throw is logged (the server times the challenge out). */
  sendReady(msg: JobChallengeReady): void;
  /** Address for standalone listeners; default all of this host's addresses. */
  listenHost?: string;
  /** "job <id> (<name>)" for log lines. */
  label(entry: JournalEntry): string;
}

export class JobChallenges {
  private readonly http01: Http01Responder;

  constructor(private readonly opts: JobChallengesOptions) {
    this.http01 = new Http01Responder({ listenHost: opts.listenHost });
  }

  present(msg: JobChallenge): void {
    const { log } = this.opts;
    const ready = (error: string) => {
      try {
        this.opts.sendReady({ jobId: msg.jobId, token: msg.token, error });
      } catch (err) {
        log('warn', `job ${msg.jobId}: sending the challenge answer failed (resent on reconnect): ${(err as Error).message}`);
      }
    };
    if (!isValidJobId(msg.jobId)) return;
    const journal = this.opts.journalOf(msg.jobId);
    if (!journal || journal.stage !== 'csr-sent') {
      ready(`job ${msg.jobId} is not waiting for a certificate on this agent`);
      return;
    }
    const challenge =
      msg.mode === JobChallenge_Mode.MODE_WEBROOT
        ? { mode: 'webroot' as const, token: msg.token, keyAuthorization: msg.keyAuthorization, webroot: msg.webroot }
        : { mode: 'standalone' as const, token: msg.token, keyAuthorization: msg.keyAuthorization, port: msg.port };
    this.http01.present(msg.jobId, challenge).then(
      () => {
        log('info', `${this.opts.label(journal)}: answering the ACME HTTP-01 challenge ${challenge.mode === 'webroot' ? `from ${challenge.webroot}` : `on port ${challenge.port}`}`);
        ready('');
      },
      (error: Error) => {
        log('warn', `${this.opts.label(journal)}: cannot answer the ACME HTTP-01 challenge: ${error.message}`);
        ready(error.message);
      },
    );
  }

  cleanup(msg: JobChallengeCleanup): void {
    if (!isValidJobId(msg.jobId)) return;
    this.http01.cleanup(msg.jobId, msg.token).catch((error: Error) => this.opts.log('warn', `job ${msg.jobId}: removing the HTTP-01 challenge failed: ${error.message}`));
  }

  /** Takes away challenge files and listeners still up (agent shutdown). */
  closeAll(): Promise<void> {
    return this.http01.closeAll();
  }
}
