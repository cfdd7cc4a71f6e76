import { spawn } from 'node:child_process';
import { AlertMessage, ChannelSender } from '../notification-message';

/**
 * Runs a program (argv, no shell) with the alert as JSON on stdin and CERTFLEET_ALERT_* variables;
 * exit 0 is delivered. At the timeout it is killed (SIGKILL, its whole process group).
 */
export class CommandChannel implements ChannelSender {
  constructor(private readonly argv: string[]) {}

  send(message: AlertMessage, _recipients: string[], signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.argv[0], this.argv.slice(1), {
        stdio: ['pipe', 'ignore', 'pipe'],
        detached: true,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          CERTFLEET_ALERT_EVENT: message.event,
          CERTFLEET_ALERT_KIND: message.kind,
          CERTFLEET_ALERT_SEVERITY: message.severity,
          CERTFLEET_ALERT_STAGE: message.stageLabel,
          CERTFLEET_ALERT_SUBJECT: message.subjectKey,
          CERTFLEET_ALERT_ID: message.alertId,
          CERTFLEET_ALERT_OWNER_TEAM: message.owner.team ?? '',
        },
      });
      let stderr = '';
      const kill = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      signal.addEventListener('abort', kill, { once: true });
      child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-500)));
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(JSON.stringify(message));
      child.on('error', (err) => (signal.removeEventListener('abort', kill), reject(new Error(`cannot run ${this.argv[0]}: ${err.message}`))));
      child.on('close', (code, sig) => {
        signal.removeEventListener('abort', kill);
        if (code === 0) resolve();
        else if (signal.aborted) reject(new Error(`${this.argv[0]} killed after the timeout`));
        else reject(new Error(`${this.argv[0]} exited with ${code ?? sig}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
      });
    });
  }
}
