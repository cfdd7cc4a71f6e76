// Runs a job's reload command: `/bin/sh -c <command>` as the agent's user, in a process group of
// its own so a timeout stops everything it started (SIGTERM to the group, SIGKILL 2 s later).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const DEFAULT_RELOAD_TIMEOUT_MS = 30_000;
/** How long a group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** How much of the end of stdout and of stderr goes into an error. */
export const OUTPUT_TAIL_BYTES = 2048;

export type ReloadOutcome = { ok: true; durationMs: number } | { ok: false; error: string; durationMs: number };

export interface ReloadOptions {
  timeoutMs: number;
  /** Tests only: the time between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

/** Keeps the last `limit` bytes written to it. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    const cut = all.length > this.limit;
    const text = all.subarray(Math.max(0, all.length - this.limit)).toString('utf8').trim();
    return cut ? `...${text}` : text;
  }
}

/**
 * Runs `command` (empty: nothing to run, success). Success is exit status 0 within the timeout;
 * anything else is a failure whose error names the exit code, signal or timeout and ends with the
 * tails of stderr and stdout.
 */
export function runReloadCommand(command: string, { timeoutMs, killGraceMs = KILL_GRACE_MS }: ReloadOptions): Promise<ReloadOutcome> {
  const started = Date.now();
  if (command.trim() === '') return Promise.resolve({ ok: true, durationMs: 0 });
  return new Promise((resolve) => {
    const stdout = new Tail(OUTPUT_TAIL_BYTES);
    const stderr = new Tail(OUTPUT_TAIL_BYTES);
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone
      }
    };
    let killed!: Promise<void>;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killed = new Promise((done) => {
        killTimer = setTimeout(() => {
          signalGroup('SIGKILL');
          done();
        }, killGraceMs);
      });
    }, timeoutMs);

    const finish = (failure: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const durationMs = Date.now() - started;
      if (failure === undefined) {
        resolve({ ok: true, durationMs });
        return;
      }
      const output = [stderr.text() && `stderr: ${stderr.text()}`, stdout.text() && `stdout: ${stdout.text()}`].filter(Boolean);
      resolve({ ok: false, durationMs, error: output.length ? `${failure}; ${output.join('; ')}` : failure });
    };

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => finish(`reload command could not be started: ${error.message}`));
    child.on('exit', (code, signal) => {
      const status = signal ? `signal ${signal}` : `exit code ${code}`;
      // A background process the command left behind may keep the pipes open: read what is there
      // now and stop waiting for the rest.
      setTimeout(async () => {
        child.stdout.destroy();
        child.stderr.destroy();
        if (timedOut) {
          // Members of the group that ignored SIGTERM get SIGKILL before we report (and before the
          // caller restores files and runs the command again).
          if (child.pid !== undefined && groupHasLiveMembers(child.pid)) await killed;
          else clearTimeout(killTimer);
          finish(`reload command timed out after ${timeoutMs} ms and was killed (${status})`);
        } else if (signal) finish(`reload command was killed by signal ${signal}`);
        else if (code !== 0) finish(`reload command failed with exit code ${code}`);
        else finish(undefined);
      }, 50);
    });
  });
}

/**
 * Whether process group `pgid` still has a member that is not a zombie. Killed members can stay
 * zombies until init reaps them, and kill(-pgid, 0) counts those; on Linux /proc tells them apart.
 */
export function groupHasLiveMembers(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}
