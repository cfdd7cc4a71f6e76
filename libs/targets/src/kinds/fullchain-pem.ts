import { checkMaterial } from '../material';
import type { FullchainPemSpec, InstallTarget } from '../types';

/** Certificate followed by its chain in one file (nginx `ssl_certificate`); the key apart. */
export function fullchainPemTarget(spec: FullchainPemSpec): InstallTarget {
  return {
    spec,
    describe: () => `full-chain PEM ${spec.path}, key ${spec.keyPath}`,
    async plan(material) {
      const checked = checkMaterial(material);
      return [
        { path: spec.path, data: checked.certificatePem + checked.chainPem, secret: false },
        { path: spec.keyPath, data: checked.privateKeyPem, secret: true },
      ];
    },
  };
}
