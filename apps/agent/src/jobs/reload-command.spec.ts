import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReloadCommand } from './reload-command';
import { shq } from './testing/tls-servers';

jest.setTimeout(30_000);

/** Running, not a zombie waiting for init to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('runReloadCommand', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'reload-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the command with /bin/sh -c and succeeds on exit 0', async () => {
    const marker = join(dir, 'ran');
    const outcome = await runReloadCommand(`test -n "$0" && echo "$0 ok" > ${shq(marker)}`, { timeoutMs: 5000 });
    expect(outcome.ok).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('/bin/sh ok\n');
  });

  it('treats an empty command as nothing to run', async () => {
    await expect(runReloadCommand('  ', { timeoutMs: 5000 })).resolves.toEqual({ ok: true, durationMs: 0 });
  });

  it('reports the exit code with the ends of stderr and stdout', async () => {
    const outcome = await runReloadCommand('echo "config ok"; echo "nginx: [emerg] cannot load certificate" >&2; exit 3', { timeoutMs: 5000 });
    expect(outcome).toMatchObject({
      ok: false,
      error: 'reload command failed with exit code 3; stderr: nginx: [emerg] cannot load certificate; stdout: config ok',
    });
  });

  it('keeps only the last ~2 KB of a long output', async () => {
    const outcome = await runReloadCommand('i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done >&2; exit 1', { timeoutMs: 5000 });
    expect(outcome.ok).toBe(false);
    const error = outcome.ok ? '' : outcome.error;
    expect(error).toMatch(/^reload command failed with exit code 1; stderr: \.\.\./);
    expect(error).toMatch(/line 1999$/);
    expect(error).not.toContain('line 10\n');
    expect(error.length).toBeLessThan(2200);
  });

  it('reports a command killed by a signal', async () => {
    const outcome = await runReloadCommand('kill -KILL $$', { timeoutMs: 5000 });
    expect(outcome).toMatchObject({ ok: false, error: 'reload command was killed by signal SIGKILL' });
  });

  it('on timeout kills the whole process group, background children included', async () => {
    const pidFile = join(dir, 'child.pid');
    const started = Date.now();
    const outcome = await runReloadCommand(`sleep 60 & echo $! > ${shq(pidFile)}; echo waiting; wait`, { timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outcome).toMatchObject({ ok: false });
    expect(outcome.ok ? '' : outcome.error).toMatch(/^reload command timed out after 500 ms and was killed \(signal SIGTERM\); stdout: waiting$/);
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(await eventually(() => !alive(child))).toBe(true);
  });

  it('sends SIGKILL to a group that ignores SIGTERM, before reporting', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const started = Date.now();
    const outcome = await runReloadCommand(`trap '' TERM; sleep 60 & echo $! > ${shq(pidFile)}; wait; wait`, { timeoutMs: 300, killGraceMs: 700 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(3000);
    expect(outcome.ok ? '' : outcome.error).toMatch(/^reload command timed out after 300 ms and was killed \(signal SIGKILL\)/);
    expect(existsSync(pidFile)).toBe(true);
    expect(await eventually(() => !alive(Number(readFileSync(pidFile, 'utf8'))), 500)).toBe(true);
  });
});
