// The one entry from a spec (plain data from a job) to its target implementation.
import { checkPaths, installFiles, InstallTransaction } from './install-files';
import { combinedPemTarget } from './kinds/combined-pem';
import { fullchainPemTarget } from './kinds/fullchain-pem';
import { javaKeystoreTarget } from './kinds/java-keystore';
import { pemFilesTarget } from './kinds/pem-files';
import { pkcs12Target } from './kinds/pkcs12';
import type { FileWrite, InstallMaterial, InstallTarget, TargetSpec } from './types';

export function createTarget(spec: TargetSpec): InstallTarget {
  switch (spec.kind) {
    case 'pem-files':
      return pemFilesTarget(spec);
    case 'fullchain-pem':
      return fullchainPemTarget(spec);
    case 'combined-pem':
      return combinedPemTarget(spec);
    case 'pkcs12':
      return pkcs12Target(spec);
    case 'java-keystore':
      return javaKeystoreTarget(spec);
    default: {
      const unknown: never = spec;
      throw new Error(`unknown install target kind: ${(unknown as { kind: string }).kind}`);
    }
  }
}

/**
 * The files every target would write, checked (material, paths) but not written. Callers that must
 * survive a crash record their paths (recordPreInstallState) and hashes before `installFiles`:
 * planning again would not give the same bytes (PKCS#12 and JKS salts).
 */
export async function planInstall(specs: readonly TargetSpec[], material: InstallMaterial): Promise<FileWrite[]> {
  const writes = (await Promise.all(specs.map((spec) => createTarget(spec).plan(material)))).flat();
  checkPaths(writes);
  return writes;
}

/** Plans every target, then writes all their files as one transaction (nothing is written if planning fails). */
export async function installTargets(specs: readonly TargetSpec[], material: InstallMaterial): Promise<InstallTransaction> {
  return installFiles(await planInstall(specs, material));
}
