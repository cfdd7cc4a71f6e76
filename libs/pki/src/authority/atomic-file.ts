// Crash-safe file replacement: readers see the old file or the new one, never a torn write, and
// the rename survives power loss (file and directory are fsynced).
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** A fresh temporary path beside `path` (same directory, so rename/link stay on one filesystem). */
export function siblingTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `data` to a new file at `tempPath` with exactly `mode` (umask ignored) and fsyncs it. */
export function writeDurableNewFile(tempPath: string, data: string | Uint8Array, mode: number): void {
  const fd = openSync(tempPath, 'wx', mode);
  try {
    fchmodSync(fd, mode);
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

/** Replaces `path` atomically with `data` and permission bits `mode` (e.g. 0o600). */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): void {
  const tempPath = siblingTempPath(path);
  try {
    writeDurableNewFile(tempPath, data, mode);
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
