// The one entry from a spec (plain data from a job) to its target implementation.
import { installFiles, InstallTransaction } from './install-files';
import { combinedPemTarget } from './kinds/combined-pem';
import { fullchainPemTarget } from './kinds/fullchain-pem';
import { pemFilesTarget } from './kinds/pem-files';
import { pkcs12Target } from './kinds/pkcs12';
import type { InstallMaterial, InstallTarget, TargetSpec } from './types';

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
    default: {
      const unknown: never = spec;
      throw new Error(`unknown install target kind: ${(unknown as { kind: string }).kind}`);
    }
  }
}

/** Plans every target, then writes all their files as one transaction (nothing is written if planning fails). */
export async function installTargets(specs: readonly TargetSpec[], material: InstallMaterial): Promise<InstallTransaction> {
  const plans = await Promise.all(specs.map((spec) => createTarget(spec).plan(material)));
  return installFiles(plans.flat());
}
