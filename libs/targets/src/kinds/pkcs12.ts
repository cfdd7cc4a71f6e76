import { checkMaterial } from '../material';
import { buildPkcs12 } from '../pkcs12/pkcs12-writer';
import type { InstallTarget, Pkcs12Spec } from '../types';

/** Password-protected PKCS#12 (PBES2/AES-256, HMAC-SHA256 MAC) with key, certificate and chain. */
export function pkcs12Target(spec: Pkcs12Spec): InstallTarget {
  return {
    spec,
    describe: () => `PKCS#12 ${spec.path}${spec.alias === undefined ? '' : ` (alias ${spec.alias})`}`,
    async plan(material) {
      const checked = checkMaterial(material);
      const data = buildPkcs12({
        certificateDer: checked.certificateDer,
        chainDer: checked.chainDer,
        privateKeyPkcs8Der: checked.privateKey.export({ type: 'pkcs8', format: 'der' }),
        password: spec.password,
        alias: spec.alias,
      });
      return [{ path: spec.path, data, secret: true }];
    },
  };
}
