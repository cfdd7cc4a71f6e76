// What a path held before we touched it, and putting it back (writes go through pki's
// writeFileAtomic, which sets owner and mode before the file becomes visible).
import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '@certfleet/pki';

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

/** Puts `path` back as the snapshot recorded it (content, mode, owner), or removes it. No-op if it already is. */
export function restore(state: FileSnapshot): void {
  if (sameState(state, snapshot(state.path))) return;
  if (state.exists) {
    writeFileAtomic(state.path, state.data, state.mode, state);
    return;
  }
  unlinkSync(state.path);
  fsyncDirectory(dirname(state.path));
}

function sameState(a: FileSnapshot, b: FileSnapshot): boolean {
  if (!a.exists || !b.exists) return a.exists === b.exists;
  return a.data.equals(b.data) && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

