import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDir } from '../state/state-dir';
import { CertificateJob, JobOutcome } from '@certfleet/proto';
import { isValidJobId, JobJournal, JobJournalStore, JobTombstone } from './journal';

const job = (jobId: string): CertificateJob => ({
  jobId,
  managedCertificateId: 'm',
  name: 'n',
  keyType: 'ec-p256',
  commonName: '',
  dnsNames: ['a.example'],
  ipAddresses: [],
  targets: [{ kind: { $case: 'pkcs12', value: { path: '/srv/a.p12', password: 'secret', alias: 'a' } } }],
  reload: undefined,
  validation: undefined,
  attempt: 1,
});

describe('job ids', () => {
  it.each([randomUUID(), 'job-1', 'A_b-9', 'x'.repeat(128)])('accepts %s', (id) => expect(isValidJobId(id)).toBe(true));

  it.each(['', '.', '..', '../x', 'a/b', 'a\\b', '.hidden', '-flag', '_x', 'a.json', 'a b', 'a\nb', 'a\u0000b', 'é', 'x'.repeat(129)])(
    'refuses %j',
    (id) => expect(isValidJobId(id)).toBe(false),
  );

  it('refuses non-strings', () => {
    expect(isValidJobId(undefined)).toBe(false);
    expect(isValidJobId(42)).toBe(false);
  });
});

describe('JobJournalStore', () => {
  let dir: string;
  let store: JobJournalStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    store = new JobJournalStore(new StateDir(join(dir, 'state')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const journal = (jobId: string, receivedAt = '2026-01-01T00:00:00.000Z'): JobJournal => ({
    version: 1,
    jobId,
    stage: 'queued',
    receivedAt,
    job: job(jobId),
  });
  const tombstone = (jobId: string, finishedAt: string): JobTombstone => ({
    version: 1,
    jobId,
    stage: 'done',
    outcome: 'JOB_OUTCOME_SUCCEEDED',
    finishedAt,
    result: { jobId, outcome: JobOutcome.JOB_OUTCOME_SUCCEEDED, stage: 'done', error: '', installedSerial: 'ab', durationMs: 5 },
  });

  it('writes journals and keys 0600 in a 0700 directory and reads them back', () => {
    store.write(journal('j1'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    store.writeKey('j1', privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.journalPath('j1')).mode & 0o777).toBe(0o600);
    expect(statSync(store.keyPath('j1')).mode & 0o777).toBe(0o600);
    expect(store.read('j1')).toEqual(journal('j1'));
    expect(store.read('other')).toBeUndefined();
  });

  it('never builds a path from an invalid id', () => {
    expect(() => store.write(journal('../x'))).toThrow('invalid job id "../x"');
    expect(() => store.read('..')).toThrow('invalid job id');
    expect(() => store.writeKey('a/b', 'k')).toThrow('invalid job id');
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('refuses a journal that is not for the job its name says', () => {
    store.write(journal('j1'));
    writeFileSync(store.journalPath('j2'), JSON.stringify({ ...journal('j1') }));
    expect(() => store.read('j2')).toThrow('not a version 1 journal for job j2');
  });

  it('lists journals in arrival order and reports unreadable ones without failing', () => {
    store.write(journal('late', '2026-01-02T00:00:00.000Z'));
    store.write(journal('early', '2026-01-01T00:00:00.000Z'));
    writeFileSync(store.journalPath('broken'), '{"version":1,');
    writeFileSync(join(store.dir, 'not-a-job.txt'), 'x');
    const errors: string[] = [];
    expect(store.list((file) => errors.push(file)).map((e) => e.jobId)).toEqual(['early', 'late']);
    expect(errors).toEqual([store.journalPath('broken')]);
  });

  it('prunes old tombstones, keys without a live journal and temp files, keeping everything else', () => {
    store.write(tombstone('old', '2026-01-01T00:00:00.000Z'));
    store.write(tombstone('recent', '2026-02-20T00:00:00.000Z'));
    store.write(journal('live'));
    store.writeKey('live', 'k');
    store.writeKey('orphan', 'k');
    store.writeKey('recent', 'k');
    writeFileSync(store.journalPath('broken'), 'garbage');
    store.writeKey('broken', 'k');
    writeFileSync(join(store.dir, '.live.json.123.abcdef.tmp'), 'half');
    const errors: string[] = [];
    expect(store.prune(new Date('2026-02-01T00:00:00.000Z'), (file) => errors.push(file))).toEqual(['old']);
    expect(readdirSync(store.dir).sort()).toEqual(['broken.json', 'broken.key', 'live.json', 'live.key', 'recent.json']);
    expect(errors).toEqual([store.journalPath('broken')]);
  });
});
