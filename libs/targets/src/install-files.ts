// Installs a set of files as one unit: each existing file is first copied to `<path>.certfleet-bak`
// (same owner, same mode; capped at 0600 for secrets), then replaced atomically keeping its owner
// and mode. Any failure puts back every file touched so far, backups included, before throwing.
//
// Commit keeps the backups by default: `<path>.certfleet-bak` always holds the version that was in
// place before the last change, so an operator (or a later failed validation) can still revert.
// A file whose content and mode are already right is left alone and its backup is not touched, so
// re-running the same job never replaces the real previous version's backup with a copy of the new.
import { unlinkSync } from 'node:fs';
import { dirname, isAbsolute, normalize } from 'node:path';
import { InstallFailedError, InvalidTargetError } from './errors';
import { fsyncDirectory, writeFileAtomic } from '@certfleet/pki';
import { FileSnapshot, restore, snapshot } from './file-state';
import type { FileWrite } from './types';

export const BACKUP_SUFFIX = '.certfleet-bak';
const SECRET_MODE = 0o600;
const PUBLIC_MODE = 0o644;

export interface InstalledFile {
  path: string;
  /** False when the file already had this content and mode (nothing written, no backup made). */
  changed: boolean;
  /** True when the file did not exist before. */
  created: boolean;
  /** Where the previous version was kept, when there was one and the file changed. */
  backupPath?: string;
  /** Permission bits the file has now. */
  mode: number;
}

export interface CommitOptions {
  /** Delete the backups this install made (default false: keep the last version for manual revert). */
  removeBackups?: boolean;
}

export interface InstallTransaction {
  readonly files: readonly InstalledFile[];
  /** True if any file changed (false: everything was already installed). */
  readonly changed: boolean;
  /** Puts every file (and every backup) back exactly as before the install; new files are removed. */
  rollback(): Promise<void>;
  /** Ends the transaction; see CommitOptions. */
  commit(options?: CommitOptions): Promise<void>;
}

/** Writes `writes` in order as one unit; throws InstallFailedError after rolling back on failure. */
export async function installFiles(writes: readonly FileWrite[]): Promise<InstallTransaction> {
  checkPaths(writes);
  const undo: FileSnapshot[] = [];
  const files: InstalledFile[] = [];
  for (const write of writes) {
    try {
      files.push(installOne(write, undo));
    } catch (error) {
      const rollbackErrors = undoAll(undo);
      const reason = error instanceof Error ? error.message : String(error);
      const outcome = rollbackErrors.length === 0
        ? 'every file written before it was restored'
        : `rollback incomplete: ${rollbackErrors.map((e) => e.message).join('; ')}`;
      throw new InstallFailedError(`installing ${write.path} failed: ${reason} (${outcome})`, write.path, rollbackErrors.length === 0, rollbackErrors, {
        cause: error,
      });
    }
  }
  return new Transaction(files, undo);
}

function installOne(write: FileWrite, undo: FileSnapshot[]): InstalledFile {
  const before = snapshot(write.path);
  const bytes = typeof write.data === 'string' ? Buffer.from(write.data, 'utf8') : Buffer.from(write.data);
  const mode = newMode(before, write.secret);
  if (before.exists && before.data.equals(bytes) && before.mode === mode) {
    return { path: write.path, changed: false, created: false, mode };
  }
  let backupPath: string | undefined;
  if (before.exists) {
    backupPath = write.path + BACKUP_SUFFIX;
    undo.push(snapshot(backupPath));
    writeFileAtomic(backupPath, before.data, write.secret ? before.mode & SECRET_MODE : before.mode, before);
  }
  undo.push(before); // before the write: if it fails after the rename, rollback still covers it
  writeFileAtomic(write.path, bytes, mode, before.exists ? before : undefined);
  return { path: write.path, changed: true, created: !before.exists, backupPath, mode };
}

/** Existing files keep their mode (secrets capped at 0600); new files get 0600 or 0644. */
function newMode(before: FileSnapshot, secret: boolean): number {
  if (!before.exists) return secret ? SECRET_MODE : PUBLIC_MODE;
  const kept = before.mode & 0o777;
  return secret ? kept & SECRET_MODE : kept;
}

/** Absolute, normalised, each written once, none the backup of another. Throws InvalidTargetError. */
export function checkPaths(writes: readonly FileWrite[]): void {
  const seen = new Set<string>();
  for (const { path } of writes) {
    if (!isAbsolute(path) || normalize(path) !== path) throw new InvalidTargetError(`install path must be absolute and normalised: ${path}`);
    if (seen.has(path)) throw new InvalidTargetError(`the same path is written twice: ${path}`);
    seen.add(path);
  }
  for (const path of seen) {
    if (seen.has(path + BACKUP_SUFFIX)) throw new InvalidTargetError(`${path + BACKUP_SUFFIX} is both a target and a backup`);
  }
}

/** Restores in reverse order; returns what could not be restored instead of stopping at the first. */
function undoAll(undo: readonly FileSnapshot[]): Error[] {
  const errors: Error[] = [];
  for (const state of [...undo].reverse()) {
    try {
      restore(state);
    } catch (error) {
      errors.push(new Error(`could not restore ${state.path}: ${(error as Error).message}`));
    }
  }
  return errors;
}

class Transaction implements InstallTransaction {
  private state: 'open' | 'committed' | 'rolled back' = 'open';

  constructor(
    readonly files: readonly InstalledFile[],
    private readonly undo: readonly FileSnapshot[],
  ) {}

  get changed(): boolean {
    return this.files.some((file) => file.changed);
  }

  async rollback(): Promise<void> {
    this.close('rolled back');
    const errors = undoAll(this.undo);
    if (errors.length > 0) throw new AggregateError(errors, `rollback incomplete: ${errors.map((e) => e.message).join('; ')}`);
  }

  async commit(options: CommitOptions = {}): Promise<void> {
    this.close('committed');
    if (!options.removeBackups) return;
    for (const { backupPath } of this.files) {
      if (backupPath === undefined) continue;
      unlinkSync(backupPath);
      fsyncDirectory(dirname(backupPath));
    }
  }

  private close(next: 'committed' | 'rolled back'): void {
    if (this.state !== 'open') throw new Error(`install transaction already ${this.state}`);
    this.state = next;
  }
}
