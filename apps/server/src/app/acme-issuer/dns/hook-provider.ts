// DNS-01 through an administrator's script: run with the challenge in its environment, action
// "present" before validation and "cleanup" after.
import { spawn } from 'node:child_process';

export interface HookChallenge {
  domain: string;
  token: string;
  keyAuthorization: string;
  txtValue: string;
}

export class HookFailedError extends Error {}

export function runDnsHook(command: string, action: 'present' | 'cleanup', c: HookChallenge, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command, 'certfleet-acme-hook', action], {
      env: {
        ...process.env,
        CERTFLEET_ACME_ACTION: action,
        CERTFLEET_ACME_DOMAIN: c.domain,
        CERTFLEET_ACME_RECORD_NAME: `_acme-challenge.${c.domain}`,
        CERTFLEET_ACME_TOKEN: c.token,
        CERTFLEET_ACME_KEY_AUTHORIZATION: c.keyAuthorization,
        CERTFLEET_ACME_TXT_VALUE: c.txtValue,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HookFailedError(`DNS hook (${action}) could not start: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new HookFailedError(`DNS hook (${action}) ${signal ? `was killed (${signal})` : `exited with code ${code}`}${output.trim() ? `: ${output.trim()}` : ''}`));
    });
  });
}
