// Making installed files live: the reload command, then (when the job names an endpoint) a TLS
// handshake proving the service serves the new certificate with a chain to the root.
import { X509Certificate } from 'node:crypto';
import type { CertificateJob } from '@certfleet/proto';
import { firstDnsName } from './certificate-check';
import { DEFAULT_RELOAD_TIMEOUT_MS, runReloadCommand } from './reload-command';
import { DEFAULT_VALIDATION_TIMEOUT_MS, validateServedCertificate } from './tls-validation';

export type ActivationResult = { ok: true; validatedBy?: string } | { ok: false; stage: 'reload' | 'validate'; error: string };

/** Runs the job's reload command (nothing to do when it has none). */
export function reloadService(job: CertificateJob, onStart: (timeoutMs: number) => void) {
  const command = job.reload?.command ?? '';
  const timeoutMs = (job.reload?.timeoutSeconds || DEFAULT_RELOAD_TIMEOUT_MS / 1000) * 1000;
  if (command.trim()) onStart(timeoutMs);
  return runReloadCommand(command, { timeoutMs });
}

/** Reload, then validate; says which step failed and why. */
export async function activateCertificate(
  job: CertificateJob,
  leaf: X509Certificate,
  root: X509Certificate,
  now: () => Date,
  onReload: (timeoutMs: number) => void,
): Promise<ActivationResult> {
  const reload = await reloadService(job, onReload);
  if (!reload.ok) return { ok: false, stage: 'reload', error: reload.error };
  const validation = job.validation;
  if (!validation) return { ok: true };
  const serverName = validation.serverName || firstDnsName(leaf);
  const outcome = await validateServedCertificate(
    {
      host: validation.host || serverName || 'localhost',
      port: validation.port || 443,
      serverName,
      timeoutMs: (validation.timeoutSeconds || DEFAULT_VALIDATION_TIMEOUT_MS / 1000) * 1000,
    },
    leaf,
    root,
    now,
  );
  if (!outcome.ok) return { ok: false, stage: 'validate', error: outcome.error };
  return { ok: true, validatedBy: `${validation.host}:${validation.port} serves the new certificate (${outcome.attempts} handshake(s))` };
}
