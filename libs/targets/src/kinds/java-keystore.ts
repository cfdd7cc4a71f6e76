import { lstatSync, readFileSync } from 'node:fs';
import { InvalidTargetError } from '../errors';
import { jksAlias, buildJks, JksPrivateKeyEntry } from '../jks/jks-writer';
import { readJks } from '../jks/jks-reader';
import { recoverKey } from '../jks/key-protector';
import { checkMaterial } from '../material';
import type { InstallTarget, JavaKeystoreSpec } from '../types';

export const DEFAULT_JKS_ALIAS = 'certfleet';

/** A JKS keystore with one PrivateKeyEntry (key, certificate, chain), for Java servers that want JKS. */
export function javaKeystoreTarget(spec: JavaKeystoreSpec, now: () => Date = () => new Date()): InstallTarget {
  const alias = jksAlias(spec.alias ?? DEFAULT_JKS_ALIAS);
  return {
    spec,
    describe: () => `Java keystore (JKS) ${spec.path} (alias ${alias})`,
    async plan(material) {
      const keyPassword = spec.keyPassword ?? spec.storePassword;
      // Java refuses to check integrity with an empty password and the key protector would be keyless.
      if (spec.storePassword === '' || keyPassword === '') throw new InvalidTargetError(`JKS ${spec.path}: store and key passwords must not be empty`);
      if (alias === '') throw new InvalidTargetError(`JKS ${spec.path}: alias must not be empty`);
      const checked = checkMaterial(material);
      const entry: JksPrivateKeyEntry = {
        alias,
        createdAt: now(),
        privateKeyPkcs8Der: checked.privateKey.export({ type: 'pkcs8', format: 'der' }),
        chainDer: [checked.certificateDer, ...checked.chainDer],
        keyPassword,
      };
      const unchanged = existingKeystoreHolding(spec.path, entry, spec.storePassword);
      return [{ path: spec.path, data: unchanged ?? buildJks(entry, spec.storePassword), secret: true }];
    },
  };
}

/**
 * The current file's bytes when it is a keystore holding exactly `entry` and nothing else, so the
 * install sees "no change" (see jks-reader.ts for why). Anything unreadable means "write anew".
 */
function existingKeystoreHolding(path: string, entry: JksPrivateKeyEntry, storePassword: string): Buffer | undefined {
  try {
    if (!lstatSync(path).isFile()) return undefined;
    const data = readFileSync(path);
    const entries = readJks(data, storePassword);
    if (entries.length !== 1 || entries[0].kind !== 'private-key') return undefined;
    const [found] = entries;
    const sameChain = found.chainDer.length === entry.chainDer.length && found.chainDer.every((der, i) => der.equals(entry.chainDer[i]));
    if (found.alias !== entry.alias || !sameChain) return undefined;
    return recoverKey(found.protectedKey, entry.keyPassword).equals(entry.privateKeyPkcs8Der) ? data : undefined;
  } catch {
    return undefined;
  }
}
