// Crash-safe file replacement: readers see the old file or the new one, never a torn write, and
// the rename survives power loss (file and directory are fsynced).
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** A fresh temporary path beside `path` (same directory, so rename/link stay on one filesystem). */
export function siblingTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** A file's owner, to keep when replacing a file another account reads (e.g. a service's key). */
export interface FileOwner {
  uid: number;
  gid: number;
}

/**
 * Writes `data` to a new file at `tempPath` with exactly `mode` (umask ignored) and, when given,
 * `owner`, and fsyncs it. Owner and mode are set before any byte is written.
 */
export function writeDurableNewFile(tempPath: string, data: string | Uint8Array, mode: number, owner?: FileOwner): void {
  const fd = openSync(tempPath, 'wx', 0o600);
  try {
    const created = fstatSync(fd);
    if (owner && (owner.uid !== created.uid || owner.gid !== created.gid)) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode); // after chown, which clears set-id bits
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory so a rename or link inside it is durable. */
export function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` atomically with `data`, permission bits `mode` (e.g. 0o600) and, when given,
 * `owner`: readers never see the new content with the wrong owner or mode.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode: number, owner?: FileOwner): void {
  const tempPath = siblingTempPath(path);
  try {
    writeDurableNewFile(tempPath, data, mode, owner);
    renameSync(tempPath, path);
  } catch (error) {
    try {
      unlinkSync(tempPath);
    } catch {
      // already renamed or never created
    }
    throw error;
  }
  fsyncDirectory(dirname(path));
}
