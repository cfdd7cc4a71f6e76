// Managed certificate settings as the agent receives them on its stream.
import type { CertificateJob as CertificateJobMessage, InstallTarget } from '@certfleet/proto';
import type { TargetSpec } from '@certfleet/targets';
import type { ManagedCertificate } from '../managed/managed-certificate.entity';
import type { CertificateJob } from './certificate-job.entity';

function installTarget(t: TargetSpec): InstallTarget {
  switch (t.kind) {
    case 'pem-files':
      return { kind: { $case: 'pemFiles', value: { certPath: t.certPath, keyPath: t.keyPath, chainPath: t.chainPath ?? '' } } };
    case 'fullchain-pem':
      return { kind: { $case: 'fullchainPem', value: { path: t.path, keyPath: t.keyPath } } };
    case 'combined-pem':
      return { kind: { $case: 'combinedPem', value: { path: t.path } } };
    case 'pkcs12':
      return { kind: { $case: 'pkcs12', value: { path: t.path, password: t.password, alias: t.alias ?? '' } } };
    case 'java-keystore':
      return { kind: { $case: 'javaKeystore', value: { path: t.path, storePassword: t.storePassword, alias: t.alias ?? '', keyPassword: t.keyPassword ?? '' } } };
  }
}

export function certificateJobMessage(job: CertificateJob, m: ManagedCertificate): CertificateJobMessage {
  return {
    jobId: job.id,
    managedCertificateId: m.id,
    name: m.name,
    keyType: m.profile.keyType,
    commonName: m.profile.commonName ?? '',
    dnsNames: m.profile.dnsNames,
    ipAddresses: m.profile.ipAddresses,
    targets: m.targets.map(installTarget),
    reload: { command: m.reloadCommand, timeoutSeconds: m.reloadTimeoutSeconds },
    validation: m.validation
      ? { host: m.validation.host, port: m.validation.port, serverName: m.validation.serverName ?? '', timeoutSeconds: m.validation.timeoutSeconds ?? 10 }
      : undefined,
    attempt: job.attempt,
  };
}
