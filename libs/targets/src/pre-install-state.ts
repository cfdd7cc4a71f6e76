// Crash-safe undo for an install. InstallTransaction.rollback() lives in memory and dies with the
// process; so before installing, the agent records what each path held (a hash, not the bytes:
// the bytes are in `<path>.certfleet-bak` once the install replaces them) and keeps the record in
// its job journal. A restarted agent hands the record back to restorePreInstallState, which puts
// back the previous versions from the backups, or removes files the install created.
//
// Nothing is guessed: a file is only restored from a backup whose hash is the recorded one, and a
// path that matches neither the record nor its backup is reported and left alone.
import { createHash } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '@certfleet/pki';
import { FileSnapshot, Ownership, snapshot } from './file-state';
import { BACKUP_SUFFIX } from './install-files';

/** What one path held before an install. Plain JSON data. */
export interface PreInstallState {
  path: string;
  /** SHA-256 (lowercase hex) of the file's bytes; null: it did not exist. */
  sha256: string | null;
  /** Permission bits and owner it had (absent when it did not exist, or in a record without them: the backup's are used). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** SHA-256 of `<path>.certfleet-bak` before the install; null: there was none, so a backup found later was made by the install. Absent: unknown, a backup is never removed. */
  backupSha256?: string | null;
}

export interface RestoreReport {
  /** Paths put back to their recorded content (from the backup, or only owner/mode). */
  restored: string[];
  /** Files the install had created (target paths, and backups that did not exist before), deleted. */
  removed: string[];
  /** Target paths that already held what was recorded. */
  untouched: string[];
  /** Paths that could not be put back; they were left as found. */
  errors: { path: string; message: string }[];
}

/** Records `paths` as they are now. Throws (as the install would) if one is not a regular file. */
export function recordPreInstallState(paths: readonly string[]): PreInstallState[] {
  return paths.map((path) => {
    const file = snapshot(path);
    const backupSha256 = sha256Of(snapshot(path + BACKUP_SUFFIX));
    if (!file.exists) return { path, sha256: null, backupSha256 };
    return { path, sha256: sha256Of(file), mode: file.mode, uid: file.uid, gid: file.gid, backupSha256 };
  });
}

/** Puts every path back to its recorded state as far as the disk allows; never throws, see RestoreReport.errors. */
export async function restorePreInstallState(states: readonly PreInstallState[]): Promise<RestoreReport> {
  const report: RestoreReport = { restored: [], removed: [], untouched: [], errors: [] };
  for (const state of states) {
    try {
      report[restoreOne(state)].push(state.path);
      removeBackupMadeByInstall(state, report);
    } catch (error) {
      report.errors.push({ path: state.path, message: (error as Error).message });
    }
  }
  return report;
}

type Outcome = 'restored' | 'removed' | 'untouched';

function restoreOne(state: PreInstallState): Outcome {
  const current = snapshot(state.path);
  if (state.sha256 === null) {
    if (!current.exists) return 'untouched';
    remove(state.path);
    return 'removed';
  }
  const owner = recordedOwnership(state);
  if (current.exists && sha256Of(current) === state.sha256) {
    if (owner === undefined || sameOwnership(owner, current)) return 'untouched';
    writeFileAtomic(state.path, current.data, owner.mode, owner); // only owner/mode had changed
    return 'restored';
  }
  const backupPath = state.path + BACKUP_SUFFIX;
  const backup = snapshot(backupPath);
  if (!backup.exists || sha256Of(backup) !== state.sha256) {
    throw new Error(
      `${state.path} holds neither the recorded version (sha256 ${state.sha256}) nor does ${backupPath} ` +
        `(${backup.exists ? `sha256 ${sha256Of(backup)}` : 'missing'}); left as it is`,
    );
  }
  const target = owner ?? backup;
  writeFileAtomic(state.path, backup.data, target.mode, target);
  return 'restored';
}

/** A backup that did not exist before the install was made by it: the in-memory rollback would delete it too. */
function removeBackupMadeByInstall(state: PreInstallState, report: RestoreReport): void {
  const backupPath = state.path + BACKUP_SUFFIX;
  if (state.backupSha256 !== null || !snapshot(backupPath).exists) return;
  try {
    remove(backupPath);
    report.removed.push(backupPath);
  } catch (error) {
    report.errors.push({ path: backupPath, message: (error as Error).message });
  }
}

function recordedOwnership(state: PreInstallState): Ownership | undefined {
  const { mode, uid, gid } = state;
  return mode === undefined || uid === undefined || gid === undefined ? undefined : { mode, uid, gid };
}

const sameOwnership = (a: Ownership, b: Ownership): boolean => a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;

function sha256Of(file: FileSnapshot): string | null {
  return file.exists ? createHash('sha256').update(file.data).digest('hex') : null;
}

function remove(path: string): void {
  unlinkSync(path);
  fsyncDirectory(dirname(path));
}
