// The job's install targets (proto oneof) as @certfleet/targets specs (plain data).
import type { TargetSpec } from '@certfleet/targets';
import type { InstallTarget } from '@certfleet/proto';

/** Maps every target; throws with the index of the first one that is unset or unknown. */
export function targetSpecs(targets: readonly InstallTarget[]): TargetSpec[] {
  if (targets.length === 0) throw new Error('the job has no install targets');
  return targets.map((target, index): TargetSpec => {
    const kind = target.kind;
    switch (kind?.$case) {
      case 'pemFiles':
        return {
          kind: 'pem-files',
          certPath: kind.value.certPath,
          keyPath: kind.value.keyPath,
          ...(kind.value.chainPath ? { chainPath: kind.value.chainPath } : {}),
        };
      case 'fullchainPem':
        return { kind: 'fullchain-pem', path: kind.value.path, keyPath: kind.value.keyPath };
      case 'combinedPem':
        return { kind: 'combined-pem', path: kind.value.path };
      case 'pkcs12':
        return { kind: 'pkcs12', path: kind.value.path, password: kind.value.password, ...(kind.value.alias ? { alias: kind.value.alias } : {}) };
      case 'javaKeystore':
        return {
          kind: 'java-keystore',
          path: kind.value.path,
          storePassword: kind.value.storePassword,
          ...(kind.value.alias ? { alias: kind.value.alias } : {}),
          ...(kind.value.keyPassword ? { keyPassword: kind.value.keyPassword } : {}),
        };
      default:
        throw new Error(`install target ${index + 1} has no kind this agent knows`);
    }
  });
}

/** The paths a spec names, for logs (never the passwords). */
export function describeSpec(spec: TargetSpec): string {
  switch (spec.kind) {
    case 'pem-files':
      return `pem-files ${[spec.certPath, spec.keyPath, spec.chainPath].filter(Boolean).join(' ')}`;
    case 'fullchain-pem':
      return `fullchain-pem ${spec.path} ${spec.keyPath}`;
    default:
      return `${spec.kind} ${spec.path}`;
  }
}
