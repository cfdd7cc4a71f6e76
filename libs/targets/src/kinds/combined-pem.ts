import { checkMaterial } from '../material';
import type { CombinedPemSpec, InstallTarget } from '../types';

/** Certificate, chain, then key in one file (haproxy `crt`); it holds the key, so it is a secret. */
export function combinedPemTarget(spec: CombinedPemSpec): InstallTarget {
  return {
    spec,
    describe: () => `combined PEM (certificate + chain + key) ${spec.path}`,
    async plan(material) {
      const checked = checkMaterial(material);
      return [{ path: spec.path, data: checked.certificatePem + checked.chainPem + checked.privateKeyPem, secret: true }];
    },
  };
}
