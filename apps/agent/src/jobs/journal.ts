// Each job's journal, `<state>/jobs/<jobId>.json` (0600 in a 0700 directory), and the job's private
// key beside it, `<jobId>.key` (0600). Every write is atomic (temp file, fsync, rename, fsync dir),
// so after a crash a journal holds the last stage reached, never half of one.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@certfleet/pki';
import type { PreInstallState } from '@certfleet/targets';
import { StateDir } from '../state/state-dir';
import { CertificateJob, JobResult } from '@certfleet/proto';

const DIR = 'jobs';

/**
 * Job ids become file names: letters, digits, '-' and '_' only, starting with a letter or digit,
 * at most 128 characters (the server's ids are UUIDs). Nothing that could be '.', '..', a path
 * separator, a hidden file or a control character.
 */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isValidJobId(id: unknown): id is string {
  return typeof id === 'string' && JOB_ID_PATTERN.test(id);
}

/**
 * queued: received, no key yet. csr-sent: key stored, CSR sent, waiting for the certificate.
 * installing: certificate checked, pre-install state recorded, files being written.
 * installed: files written, reload/validation next. rolling-back: putting the previous files back.
 * result: result sent, waiting for the ack. done: tombstone (acknowledged).
 */
export type ActiveStage = 'queued' | 'csr-sent' | 'installing' | 'installed' | 'rolling-back' | 'result';
export type JobStage = ActiveStage | 'done';

export interface JobMaterial {
  certificatePem: string;
  chainPem: string;
  rootPem: string;
}

export interface InstallRecord {
  /** What the install writes: each path with the SHA-256 of its new content. */
  files: { path: string; sha256: string }[];
  /** What the paths held before, for restorePreInstallState after a crash. */
  preInstall: PreInstallState[];
}

export interface JobJournal {
  version: 1;
  jobId: string;
  stage: ActiveStage;
  /** When the job reached this agent (ISO 8601); results measure their duration from here. */
  receivedAt: string;
  job: CertificateJob;
  csrPem?: string;
  certificate?: JobMaterial;
  install?: InstallRecord;
  /** Why a rollback started (stage 'rolling-back'), so a restarted agent reports the real reason. */
  rollback?: { stage: 'reload' | 'validate'; reason: string };
  result?: JobResult;
}

/** What is left of an acknowledged job: enough to recognise a replay and to answer it. */
export interface JobTombstone {
  version: 1;
  jobId: string;
  stage: 'done';
  outcome: string;
  finishedAt: string;
  result: JobResult;
}

export type JournalEntry = JobJournal | JobTombstone;

export class JobJournalStore {
  readonly dir: string;

  constructor(private readonly state: StateDir) {
    this.dir = state.path(DIR);
  }

  ensure(): void {
    this.state.ensure();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
  }

  read(jobId: string): JournalEntry | undefined {
    const text = this.readFile(this.journalPath(jobId));
    return text === undefined ? undefined : decode(text, jobId);
  }

  write(entry: JournalEntry): void {
    this.ensure();
    writeFileAtomic(this.journalPath(entry.jobId), encode(entry), 0o600);
  }

  remove(jobId: string): void {
    removeIfPresent(this.journalPath(jobId));
    removeIfPresent(this.keyPath(jobId));
  }

  /** Stores the job's private key (0600) before its CSR leaves the host. */
  writeKey(jobId: string, privateKeyPem: string): void {
    this.ensure();
    writeFileAtomic(this.keyPath(jobId), privateKeyPem, 0o600);
  }

  readKey(jobId: string): string | undefined {
    return this.readFile(this.keyPath(jobId));
  }

  deleteKey(jobId: string): void {
    removeIfPresent(this.keyPath(jobId));
  }

  keyPath(jobId: string): string {
    return join(this.dir, `${checkedId(jobId)}.key`);
  }

  journalPath(jobId: string): string {
    return join(this.dir, `${checkedId(jobId)}.json`);
  }

  /** Every readable journal, oldest arrival first; `onError` hears about the unreadable ones. */
  list(onError: (file: string, error: Error) => void): JournalEntry[] {
    const entries: JournalEntry[] = [];
    for (const id of this.ids('.json')) {
      try {
        const entry = this.read(id);
        if (entry) entries.push(entry);
      } catch (error) {
        onError(join(this.dir, `${id}.json`), error as Error);
      }
    }
    const time = (e: JournalEntry) => (e.stage === 'done' ? e.finishedAt : e.receivedAt);
    return entries.sort((a, b) => time(a).localeCompare(time(b)) || a.jobId.localeCompare(b.jobId));
  }

  /**
   * Forgets tombstones finished before `olderThan`, keys whose journal is gone or finished, and
   * temporary files a crash left behind. Returns the job ids of the tombstones removed.
   */
  prune(olderThan: Date, onError: (file: string, error: Error) => void): string[] {
    this.ensure();
    const pruned: string[] = [];
    for (const entry of this.list(onError)) {
      if (entry.stage === 'done' && new Date(entry.finishedAt) < olderThan) {
        this.remove(entry.jobId);
        pruned.push(entry.jobId);
      }
    }
    const journals = new Set(this.ids('.json'));
    for (const id of this.ids('.key')) {
      let finished = !journals.has(id);
      if (!finished) {
        try {
          finished = this.read(id)?.stage === 'done';
        } catch {
          finished = false; // an unreadable journal keeps its key: never delete what we do not understand
        }
      }
      if (finished) removeIfPresent(this.keyPath(id));
    }
    for (const name of readdirSync(this.dir)) {
      if (/^\..+\.tmp$/.test(name)) removeIfPresent(join(this.dir, name));
    }
    return pruned;
  }

  private ids(suffix: string): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((n) => n.endsWith(suffix)).map((n) => n.slice(0, -suffix.length)).filter(isValidJobId);
  }

  private readFile(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

function checkedId(jobId: string): string {
  if (!isValidJobId(jobId)) throw new Error(`invalid job id ${JSON.stringify(String(jobId).slice(0, 80))}`);
  return jobId;
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

// Messages are stored in their proto JSON form, so a journal written by one agent version reads
// back with every field defaulted in the next.
function encode(entry: JournalEntry): string {
  const data =
    entry.stage === 'done'
      ? { ...entry, result: JobResult.toJSON(entry.result) }
      : { ...entry, job: CertificateJob.toJSON(entry.job), ...(entry.result ? { result: JobResult.toJSON(entry.result) } : {}) };
  return `${JSON.stringify(data, null, 2)}\n`;
}

function decode(text: string, jobId: string): JournalEntry {
  const data = JSON.parse(text) as Record<string, unknown>;
  if (data.version !== 1 || data.jobId !== jobId || typeof data.stage !== 'string') {
    throw new Error(`not a version 1 journal for job ${jobId}`);
  }
  if (data.stage === 'done') return { ...(data as unknown as JobTombstone), result: JobResult.fromJSON(data.result) };
  return {
    ...(data as unknown as JobJournal),
    job: CertificateJob.fromJSON(data.job),
    ...(data.result ? { result: JobResult.fromJSON(data.result) } : {}),
  };
}
