// Writing a job's files so that a crash anywhere can be undone. The plan (each path with the hash
// of its new content) and what every path held before are journaled before the first write; the
// undo is then the live transaction, or, after a restart, that journaled record.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  FileWrite,
  InstallMaterial,
  installFiles,
  planInstall,
  recordPreInstallState,
  restorePreInstallState,
  RestoreReport,
} from '@certfleet/targets';
import type { InstallTarget } from '@certfleet/proto';
import type { InstallRecord } from './journal';
import { describeSpec, targetSpecs } from './target-specs';

/** Puts the previous files back (returns what could not be), or keeps the new ones. */
export interface Undo {
  rollback(): Promise<string[]>;
  commit(): Promise<void>;
}

export interface PlannedInstall {
  writes: FileWrite[];
  /** For the journal, before anything is written. */
  record: InstallRecord;
  /** For logs: where the files go (never the passwords). */
  description: string;
}

/** Plans every target (material and paths checked) and records what the paths hold now. */
export async function planJobInstall(targets: readonly InstallTarget[], material: InstallMaterial): Promise<PlannedInstall> {
  const specs = targetSpecs(targets);
  const writes = await planInstall(specs, material);
  return {
    writes,
    record: {
      files: writes.map((write) => ({ path: write.path, sha256: sha256(write.data) })),
      preInstall: recordPreInstallState(writes.map((write) => write.path)),
    },
    description: specs.map(describeSpec).join('; '),
  };
}

/** Writes the planned files as one transaction (throws InstallFailedError after undoing a partial write). */
export async function writeJobFiles(writes: FileWrite[]): Promise<{ undo: Undo; changed: number; total: number }> {
  const transaction = await installFiles(writes);
  return {
    changed: transaction.files.filter((file) => file.changed).length,
    total: transaction.files.length,
    undo: {
      rollback: async () => {
        try {
          await transaction.rollback();
          return [];
        } catch (error) {
          const errors = error instanceof AggregateError ? (error.errors as Error[]) : [error as Error];
          return errors.map((e) => e.message);
        }
      },
      commit: () => transaction.commit(),
    },
  };
}

/** The undo after a crash: restore from the backups as the journal recorded them. */
export function undoFromRecord(record: InstallRecord | undefined, onRestored: (report: RestoreReport) => void): Undo {
  return {
    rollback: async () => {
      const report = await restorePreInstallState(record?.preInstall ?? []);
      onRestored(report);
      return report.errors.map((e) => `${e.path}: ${e.message}`);
    },
    commit: async () => undefined, // the backups stay, as after an in-process commit
  };
}

/** Planned files that do not hold their planned content (the agent stopped while writing). */
export function filesNotInPlace(record: InstallRecord): string[] {
  return record.files.filter((file) => fileSha256(file.path) !== file.sha256).map((file) => file.path);
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).digest('hex');
}

function fileSha256(path: string): string | undefined {
  try {
    return sha256(readFileSync(path));
  } catch {
    return undefined;
  }
}
