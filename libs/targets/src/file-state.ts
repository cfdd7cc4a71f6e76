// What a path held before we touched it, and crash-safe writes that set owner and mode before the
// file becomes visible (temp file in the same directory, fsync, rename, fsync the directory).
import { closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export interface Ownership {
  /** Permission bits only (0o7777). */
  mode: number;
  uid: number;
  gid: number;
}

/** A regular file's bytes and ownership, or its absence. */
export type FileSnapshot = { path: string; exists: false } | ({ path: string; exists: true; data: Buffer } & Ownership);

/** Reads what is at `path` now. Refuses anything but a regular file (symlink, directory, device). */
export function snapshot(path: string): FileSnapshot {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false };
    throw error;
  }
  if (!stats.isFile()) {
    throw new Error(`${path} is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; refusing to replace it`);
  }
  return { path, exists: true, data: readFileSync(path), mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
}

/**
 * Replaces `path` atomically with `data`. `owner` (when given) is applied to the temp file before
 * the rename, so readers never see the new content with the wrong owner or mode.
 */
export function writeAtomic(path: string, data: string | Uint8Array, mode: number, owner?: { uid: number; gid: number }): void {
  const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tempPath, 'wx', 0o600);
    try {
      const created = fstatSync(fd);
      if (owner && (owner.uid !== created.uid || owner.gid !== created.gid)) fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, mode); // after chown: chown clears set-id bits
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tempPath, path);
  } catch (error) {
    removeQuietly(tempPath);
    throw error;
  }
  fsyncDirectory(dirname(path));
}

/** Puts `path` back as the snapshot recorded it (content, mode, owner), or removes it. No-op if it already is. */
export function restore(state: FileSnapshot): void {
  if (sameState(state, snapshot(state.path))) return;
  if (state.exists) {
    writeAtomic(state.path, state.data, state.mode, state);
    return;
  }
  unlinkSync(state.path);
  fsyncDirectory(dirname(state.path));
}

function sameState(a: FileSnapshot, b: FileSnapshot): boolean {
  if (!a.exists || !b.exists) return a.exists === b.exists;
  return a.data.equals(b.data) && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

export function fsyncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never created, or already renamed
  }
}
