import { InvalidMaterialError } from '../errors';
import { checkMaterial } from '../material';
import type { FileWrite, InstallTarget, PemFilesSpec } from '../types';

/** Certificate, key and (optionally) chain in separate PEM files. */
export function pemFilesTarget(spec: PemFilesSpec): InstallTarget {
  return {
    spec,
    describe: () => `PEM files: certificate ${spec.certPath}, key ${spec.keyPath}${spec.chainPath ? `, chain ${spec.chainPath}` : ''}`,
    async plan(material) {
      const checked = checkMaterial(material);
      const writes: FileWrite[] = [
        { path: spec.certPath, data: checked.certificatePem, secret: false },
        { path: spec.keyPath, data: checked.privateKeyPem, secret: true },
      ];
      if (spec.chainPath !== undefined) {
        // An empty chain file breaks most servers that are pointed at one: refuse rather than write it.
        if (checked.chainPem === '') throw new InvalidMaterialError(`a chain file (${spec.chainPath}) is configured but the material has no chain`);
        writes.push({ path: spec.chainPath, data: checked.chainPem, secret: false });
      }
      return writes;
    },
  };
}
